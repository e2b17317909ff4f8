"""Tables, ratios, percentiles and the plots of the intake benchmark."""

import math
import statistics


def percentile(values, fraction):
    """Nearest-rank percentile (fraction in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values) if values else float("nan")


def cell_name(cell):
    return f"{cell[0]}×{cell[1]}"


def size_name(size):
    return f"{size // 1024} KB" if size % 1024 == 0 else f"{size} B"


def throughput_table(size, cells, servers, medians):
    """Markdown table: one row per server and one per ratio, one column per cell."""
    header = "| " + size_name(size) + ", msgs/s | " + " | ".join(cell_name(c) for c in cells) + " |"
    lines = [header, "|---" * (len(cells) + 1) + "|"]
    for server in servers:
        lines.append(f"| {server} | " + " | ".join(f"{medians[server][cell_name(c)]:.0f}" for c in cells) + " |")
    for peer in servers[1:]:
        ratios = [medians[servers[0]][cell_name(c)] / medians[peer][cell_name(c)] for c in cells]
        lines.append(f"| {servers[0]} / {peer} | " + " | ".join(f"**{r:.2f}×**" for r in ratios) + " |")
    return "\n".join(lines)


def plot_throughput(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    figure, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4), squeeze=False)
    styles = {1: "-", 10: "--"}
    for axis, size in zip(axes[0], sizes):
        table = results["throughput"][str(size)]["median"]
        for server, color in zip(results["servers"], ("tab:blue", "tab:gray", "tab:orange")):
            for per_session in sorted({c[1] for c in results["cells"]}):
                cells = [c for c in results["cells"] if c[1] == per_session]
                axis.plot([c[0] for c in cells], [table[server][cell_name(c)] for c in cells],
                          styles.get(per_session, ":"), marker="o", color=color,
                          label=f"{server}, {per_session} msg/session")
        axis.set_xscale("log")
        axis.set_xticks([c for c in sorted({c[0] for c in results["cells"]})])
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_xlabel("concurrent sessions")
        axis.set_ylabel("messages/s")
        axis.set_title(f"{size_name(size)} messages")
        axis.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.suptitle(f"Intake throughput, smtp-source client ({results['started']}, load {results['load_before']})",
                    fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_latency(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = results["latency"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    rate = latency.get("rate")
    series = [(axes[0], "cis, back to back", latency["cis"]["data_to_250_ms"], "tab:blue"),
              (axes[0], "aiosmtpd-fsync, back to back", latency["aiosmtpd-fsync"]["data_to_250_ms"], "tab:orange"),
              (axes[0], f"cis, {rate:g} msgs/s offered", latency["cis"]["paced_data_to_250_ms"], "tab:cyan"),
              (axes[1], f"cis, {rate:g} msgs/s offered", latency["cis"]["250_to_topic_ms"], "tab:green")]
    for axis, label, values, color in series:
        if not values:
            continue
        ordered = sorted(values)
        axis.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=label, color=color)
    axes[0].set_title("end of DATA → 250", fontsize=9)
    axes[1].set_title("250 → event on its topic (cis serve, JSONL)", fontsize=9)
    for axis in axes:
        axis.set_xscale("log")
        axis.set_xlabel("milliseconds")
        axis.set_ylabel("fraction of messages")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    figure.suptitle(f"Latency CDF at {latency['sessions']} sessions ({results['started']})", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

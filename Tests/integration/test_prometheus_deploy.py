"""deploy/prometheus/: the scrape example and the alert rules pass promtool (Debian's
prometheus package), and every metric the rules use is one cis exports (README's table)."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool():
    path = shutil.which("promtool")
    assert path, "promtool is needed (Debian package prometheus; scripts/install-deps.sh --with-test-tools)"
    return path


def test_scrape_example_and_rules_pass_promtool():
    config = subprocess.run([promtool(), "check", "config", "scrape.yml"], cwd=PROMETHEUS, capture_output=True,
                            text=True, timeout=60)
    assert config.returncode == 0, config.stdout + config.stderr
    rules = subprocess.run([promtool(), "check", "rules", "cis-alerts.yml"], cwd=PROMETHEUS, capture_output=True,
                           text=True, timeout=60)
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alerts_cover_queue_age_dead_letters_certificate_and_readiness_with_exported_metrics():
    rules = yaml.safe_load((PROMETHEUS / "cis-alerts.yml").read_text())["groups"][0]["rules"]
    expressions = " ".join(rule["expr"] for rule in rules)
    for needed in ["cis_queue_oldest_message_age_seconds", "cis_dead_letter_queue_messages",
                   "cis_consumer_dead_letters_total", "cis_tls_certificate_expiry_timestamp_seconds", "cis_ready"]:
        assert needed in expressions, needed
    documented = set(re.findall(r"^\| `(cis_[a-z_]+)` \|", (ROOT / "README.md").read_text(), re.MULTILINE))
    used = set(re.findall(r"\bcis_[a-z_]+", expressions))
    assert used <= documented, sorted(used - documented)

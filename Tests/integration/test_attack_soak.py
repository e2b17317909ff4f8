"""The attack soak (issue 8, item 6) in a short version: bench/attack_soak.py against the real
binary with 100 legitimate invites over STARTTLS, two connections of each attacker kind, and
no run without attackers (no throughput figures in tests). It fails on any criterion of the
full soak: a legitimate message not answered 250, not stored or not routed; an attacking
connection not closed by its deadline plus one second; RSS over the bound; a leaked file
descriptor."""
import importlib.util

from conftest import ROOT, cis_binary


def load_soak():
    spec = importlib.util.spec_from_file_location("attack_soak", ROOT / "bench" / "attack_soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_service_continues_under_every_attack_at_once():
    soak = load_soak()
    args = soak.parse_arguments([
        "--binary", cis_binary(), "--messages", "100", "--senders", "2", "--attackers-per-kind", "2",
        "--min-attack-seconds", "10", "--no-baseline", "--route-timeout", "120"])
    ok, figures = soak.soak(args)
    assert ok, figures["failures"]
    # Each kind was cut or refused by cis at least once (the churn past the connection rate).
    cut = {row[0]: row[2] for row in figures["attackers"]}
    assert sorted(cut) == sorted(soak.KINDS) and all(cut.values()), cut

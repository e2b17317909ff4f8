"""The fuzz targets (docs/fuzzing.md) in the ordinary debug build, where `cis-fuzz` replays
inputs instead of fuzzing: every seed in Tests/Fuzz/corpus, and every input a fuzz run
found a bug with (kept there as a seed), still satisfies the target's invariants; and the
target list is the same in the binary, the corpus, scripts/fuzz.sh and the doc."""
import pathlib
import re
import subprocess

import pytest

from conftest import ROOT, cis_binary

CORPUS = ROOT / "Tests" / "Fuzz" / "corpus"


def fuzz_binary():
    binary = pathlib.Path(cis_binary()).parent / "cis-fuzz"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: `swift build --build-tests` builds it beside cis")
    return binary


def script_targets():
    text = (ROOT / "scripts" / "fuzz.sh").read_text()
    return re.search(r'^ALL_TARGETS="([^"]+)"', text, re.M).group(1).split()


@pytest.mark.parametrize("target", script_targets())
def test_every_seed_satisfies_the_invariants(target):
    seeds = sorted((CORPUS / target).iterdir())
    assert seeds, f"no seeds for {target}"
    result = subprocess.run([fuzz_binary(), target, CORPUS / target], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"replayed {len(seeds)} inputs" in result.stdout


def test_the_targets_are_the_same_everywhere():
    result = subprocess.run([fuzz_binary()], capture_output=True, text=True, timeout=60)
    assert result.returncode == 64
    listed = re.search(r"^targets: (.+)$", result.stderr, re.M).group(1).split()
    assert sorted(listed) == sorted(script_targets())
    assert sorted(path.name for path in CORPUS.iterdir()) == sorted(listed)
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", (ROOT / "docs" / "fuzzing.md").read_text(), re.M))
    assert documented == set(listed)

import resource
import sys
from collections import Counter
from pathlib import Path

import pytest

# Outside Bazel (plain `pytest tests/fuzz`), import the compiler from the source tree; put the
# shared helpers (fuzzlib.py here, tflite_builder.py of tests/tflite) on the path in both cases.
_HERE = Path(__file__).absolute().parent
for path in (_HERE.parents[1] / "compiler", _HERE.parent / "tflite", _HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# Cases run per kind, summed over the session and printed at its end (the acceptance count).
_CASES: Counter = Counter()

# Address space the in-process cases may add to what the interpreter already holds: a
# compiler that tried to materialise an absurd tensor gets a MemoryError (a failure of the
# contract) instead of taking the machine's memory.
HEADROOM_BYTES = 3 << 30


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@pytest.fixture(scope="session", autouse=True)
def bounded_memory():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + HEADROOM_BYTES
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(scope="session")
def cases() -> Counter:
    return _CASES


def pytest_terminal_summary(terminalreporter):
    if _CASES:
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(_CASES.items()))
        terminalreporter.write_line(f"fuzz: {sum(_CASES.values())} cases run ({detail})")

"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: dev (default, quick), ci, thorough."""
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

# no example database, and hypothesis's other files (its cache of constants) in the temp folder, for
# this process and the subprocesses it starts: the suite leaves no .hypothesis/ where it runs
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "tinygrad_cnn-hypothesis"))
_common = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                    HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=8, **_common)
settings.register_profile("ci", max_examples=50, derandomize=True, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=300, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

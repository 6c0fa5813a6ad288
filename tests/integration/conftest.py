"""Integration tests: real peers (dcmtk, Orthanc) in a private network namespace.

The ``*_scenario.py`` files are scripts that the tests run under ``unshare -n``; they are
not test modules, so pytest does not collect them (nor their doctests).
"""

collect_ignore_glob = ["*_scenario.py"]

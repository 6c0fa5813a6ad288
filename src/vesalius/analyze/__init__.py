"""Analysis: the algorithms that turn a standardized study into measurements.

One subpackage per study type (``chest_ct``, ``cardiac_ct``, ...). Each returns typed,
frozen results and states the assumptions it makes; mapping those results to findings and
reports is the job of later stages.
"""

"""Vesalius: an open machine-learning platform for medical imaging.

The package is organised as the data flow: ``io`` reads and writes images, ``ingest``
brings studies in (and de-identifies them), ``standardize`` makes them comparable,
``store`` persists the index, ``simulate`` makes phantoms with known ground truth, and
``cli`` is the command line. ``core`` holds the types they share and imports nothing
of ours.
"""

__version__ = "0.1.0"

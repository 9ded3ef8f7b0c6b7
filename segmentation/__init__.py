"""Segment Studio's engine: reading, normalising, storing, matching, clustering.

Plain Python with no Streamlit import, so that the pages, the command-line
interface and the tests all drive the same code.
"""

__version__ = "0.1.0"

"""customers stage."""

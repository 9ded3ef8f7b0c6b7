"""automate stage."""

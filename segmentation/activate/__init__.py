"""activate stage."""

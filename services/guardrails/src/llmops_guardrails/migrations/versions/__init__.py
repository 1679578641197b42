"""One revision per schema change; never edited once released."""

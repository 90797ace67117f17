"""Survey: codebook application, canonical respondent table, weights, indicators."""

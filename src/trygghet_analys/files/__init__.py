"""Every reader and writer of files: survey files, codebook, registers, lab files, EUDA, xlsx."""

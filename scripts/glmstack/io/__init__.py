"""Files: count matrices and sample sheets in, npz/json/tsv between jobs and out."""

"""Training, evaluation and export of the slim + RGC masked facial expression classifier."""

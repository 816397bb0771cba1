"""Files: the safe archive format and saving and loading fitted models."""

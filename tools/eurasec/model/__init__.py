"""The metadata model: the descriptor, its roles, names that become paths, and the codes of findings."""

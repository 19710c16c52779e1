"""The lesson lab: the tutorial's lessons as experiments on the real broker (see ``base``)."""

"""Maintenance and measurement scripts beside the product, not installed: the sample corpus builder,
the reliability run (`make reliability`) and the hostile inputs it and the tests use."""

"""Files -> layout HTML -> chunks -> written into the core's store and index."""

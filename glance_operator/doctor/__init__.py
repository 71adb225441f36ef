"""`glance-operator doctor`: from a Glance's Ready=False down to the first blocking cause."""

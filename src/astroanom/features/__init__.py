"""Feature extraction: preprocessing, extractors (ellipse, ...), scaling."""

#: The ``reads`` of an extractor that works on objects of every kind (it joins precomputed
#: values by id, e.g. ``embeddings``); ``combine`` puts it beside parts of any one kind.
READS_ANY = "any"

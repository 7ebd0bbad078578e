"""Serving: the warehouse's latest publish held in memory (:mod:`~c360.serving.snapshot`), the
questions asked of it (:mod:`~c360.serving.queries`) and the use cases behind ``c360 serve``
(:mod:`~c360.serving.service`)."""

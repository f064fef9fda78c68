"""FHIR R4 under ``/fhir/r4/``: the clinic's records as FHIR resources (``mapping``), read
and search, ``Patient/{id}/$everything``, ``metadata`` and bulk ``$export`` (``views``)."""

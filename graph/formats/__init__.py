"""Formats: STIX 2.1, MISP and ATT&CK readers, validation, indicator values and STIX out.

Nothing here touches a store: readers turn input into ``IngestBatch`` rows, writers turn rows
into STIX objects.
"""

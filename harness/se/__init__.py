"""Smart Energy 1.x data model: typed model (datamodel), payload types (types), zigpy cluster schemas
(clusters), Simple Metering formatting (metering). The model file harness/se/datamodel.yaml is a copy of the
suite's reference data. The suite's one SE vocabulary: everything else names SE ids through these."""

from harness.se.datamodel import SE_PROFILE_ID, DataModel, Side, load_datamodel

__all__ = ["SE_PROFILE_ID", "DataModel", "Side", "load_datamodel"]

// Exports of a model artifact to the formats production systems consume: SQL, PMML, ONNX.

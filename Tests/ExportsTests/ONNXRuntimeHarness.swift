import Foundation
import ScoringCore
import TestSupport

/// Runs an exported ONNX model through `onnx.checker.check_model` and onnxruntime with the Python
/// that `.ci/setup` installs in `<package root>/.build-py/venv`. A missing venv is a failure with a
/// message, never a skip: CI must run these checks.
enum ONNXRuntimeHarness {
    static var python: URL { Fixtures.packageRoot.appendingPathComponent(".build-py/venv/bin/python") }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// What onnxruntime returned, and what the model file says about itself.
    struct Run {
        /// Numeric outputs as rows × columns; nil = NaN.
        var numbers: [String: [[Double?]]]
        var strings: [String: [[String]]]
        var docString: String
        var graphDocString: String
        var metadata: [String: String]
        var opsets: [String: Int]
        var irVersion: Int
        var producer: String
        /// Graph input name → element type ("double", "float", "string").
        var inputs: [String: String]
        var outputNames: [String]
        var versions: String

        /// Column `c` of a numeric output, NaN for nil.
        func column(_ name: String, _ c: Int = 0) -> [Double] {
            (numbers[name] ?? []).map { $0[c] ?? .nan }
        }
    }

    private struct Raw: Decodable {
        var numbers: [String: [[String?]]]
        var strings: [String: [[String]]]
        var doc_string: String
        var graph_doc_string: String
        var metadata: [String: String]
        var opsets: [String: Int]
        var ir_version: Int
        var producer: String
        var inputs: [String: String]
        var output_names: [String]
        var versions: String
    }

    /// Checks the model and scores the rows. Categorical inputs take the core's text (numbers as
    /// `Scorer`'s text form; missing as ""); numeric inputs NaN for missing.
    static func run(model: Data, rowCount: Int, columns: [String: ScoringColumn]) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(description: "no Python venv at \(python.path): run .ci/setup (it installs onnxruntime, onnx and numpy into .build-py/venv) before the ONNX export tests")
        }
        let dir = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let modelPath = dir.appendingPathComponent("model.onnx")
        let inputPath = dir.appendingPathComponent("inputs.json")
        let outputPath = dir.appendingPathComponent("outputs.json")
        let scriptPath = dir.appendingPathComponent("run_onnx.py")
        try model.write(to: modelPath)
        try Data(script.utf8).write(to: scriptPath)
        try inputJSON(rowCount: rowCount, columns: columns).write(to: inputPath)

        let process = Process()
        process.executableURL = python
        process.arguments = [scriptPath.path, modelPath.path, inputPath.path, outputPath.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errData, as: UTF8.self)
            if text.contains("No module named") {
                throw Failure(description: "the venv at \(python.path) lacks onnx/onnxruntime/numpy: run .ci/setup\n\(text)")
            }
            throw Failure(description: "onnx check or onnxruntime run failed (exit \(process.terminationStatus)):\n\(text)")
        }
        let raw = try JSONDecoder().decode(Raw.self, from: Data(contentsOf: outputPath))
        var numbers: [String: [[Double?]]] = [:]
        for (name, rows) in raw.numbers {
            numbers[name] = try rows.map { row in
                try row.map { cell in
                    guard let cell else { return nil }
                    guard let v = Double(cell) else { throw Failure(description: "unreadable number '\(cell)' in output \(name)") }
                    return v
                }
            }
        }
        return Run(numbers: numbers, strings: raw.strings, docString: raw.doc_string, graphDocString: raw.graph_doc_string,
                   metadata: raw.metadata, opsets: raw.opsets, irVersion: raw.ir_version, producer: raw.producer,
                   inputs: raw.inputs, outputNames: raw.output_names, versions: raw.versions)
    }

    /// {"rowCount": n, "columns": {name: {"numbers": ["0x1.8p+1", null, …]} | {"strings": ["a", null, …]}}}
    /// Numbers travel as C99 hex floats, so Python reads exactly the double the core read.
    static func inputJSON(rowCount: Int, columns: [String: ScoringColumn]) throws -> Data {
        var out: [String: Any] = [:]
        for (name, column) in columns {
            switch column {
            case .numbers(let x):
                out[name] = ["numbers": x.map { $0.isNaN ? NSNull() as Any : hex($0) as Any }]
            case .strings(let s):
                out[name] = ["strings": s.map { $0.map { $0 as Any } ?? NSNull() }]
            }
        }
        return try JSONSerialization.data(withJSONObject: ["rowCount": rowCount, "columns": out])
    }

    static func hex(_ x: Double) -> String {
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == 0 { return x.sign == .minus ? "-0x0p+0" : "0x0p+0" }
        let sign = x < 0 ? "-" : ""
        let m = x.magnitude
        if m.isSubnormal {
            return "\(sign)0x0.\(String(m.significandBitPattern, radix: 16).leftPadded(13))p-1022"
        }
        return "\(sign)0x1.\(String(m.significandBitPattern, radix: 16).leftPadded(13))p\(m.exponent)"
    }

    static let script = #"""
    import json, sys
    import numpy as np
    import onnx
    import onnxruntime as ort

    model_path, input_path, output_path = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)

    TYPES = {onnx.TensorProto.DOUBLE: "double", onnx.TensorProto.FLOAT: "float", onnx.TensorProto.STRING: "string"}
    inputs = {i.name: TYPES.get(i.type.tensor_type.elem_type, str(i.type.tensor_type.elem_type)) for i in model.graph.input}

    def number_text(x):
        # Scorer.numberText: integral values without a decimal point
        return str(int(x)) if x == round(x) and abs(x) < 1e15 else repr(x)

    with open(input_path) as f:
        given = json.load(f)
    n = given["rowCount"]
    feeds = {}
    for name, kind in inputs.items():
        column = given["columns"].get(name)
        if column is None:
            raise SystemExit(f"the test gave no values for graph input {name}")
        if kind in ("double", "float"):
            if "numbers" in column:
                values = [float.fromhex(v) if v is not None else float("nan") for v in column["numbers"]]
            else:
                values = [float(v) if v is not None else float("nan") for v in column["strings"]]
            feeds[name] = np.array(values, dtype=np.float64 if kind == "double" else np.float32).reshape(n, 1)
        elif kind == "string":
            if "strings" in column:
                values = ["" if v is None else v for v in column["strings"]]
            else:
                values = ["" if v is None else number_text(float.fromhex(v)) for v in column["numbers"]]
            feeds[name] = np.array(values, dtype=object).reshape(n, 1)
        else:
            raise SystemExit(f"unexpected input type {kind} for {name}")

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, feeds)

    numbers, strings = {}, {}
    for name, value in zip(names, results):
        a = np.asarray(value)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.dtype == object or a.dtype.kind in "US":
            strings[name] = [[str(c) for c in row] for row in a]
        else:
            d = a.astype(np.float64)
            numbers[name] = [[None if np.isnan(c) else float(c).hex() for c in row] for row in d]

    out = {
        "numbers": numbers, "strings": strings,
        "doc_string": model.doc_string, "graph_doc_string": model.graph.doc_string,
        "metadata": {p.key: p.value for p in model.metadata_props},
        "opsets": {o.domain: o.version for o in model.opset_import},
        "ir_version": model.ir_version, "producer": f"{model.producer_name} {model.producer_version}",
        "inputs": inputs, "output_names": names,
        "versions": f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}",
    }
    with open(output_path, "w") as f:
        json.dump(out, f)
    """#
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

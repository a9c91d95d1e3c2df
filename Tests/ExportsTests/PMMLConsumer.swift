import Foundation
import ScoringCore
import TestSupport

/// Runs pypmml (PMML4S on the JVM), an independent PMML consumer, on exported documents.
/// The Python environment is made by `.ci/setup` in `.build-py/venv`; without it the tests fail.
enum PMMLConsumer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One document and the rows to score with it.
    struct Job {
        var pmml: String
        /// Input columns, one dictionary per row; nil is a missing value.
        var rows: [[String: PMMLCell]]
    }

    struct Result {
        /// Per row, the consumer's output fields (numbers as Double, text as String; absent = null).
        var outputs: [[String: PMMLCell]]
        /// The document's ModelVerification records scored by the consumer: how many, how many cells
        /// compared, and the mismatches it found.
        var verificationRecords: Int
        var verificationCells: Int
        var verificationMismatches: [String]
    }

    static var python: URL {
        Fixtures.packageRoot.appendingPathComponent(".build-py/venv/bin/python")
    }

    static func run(_ jobs: [Job], python: URL = PMMLConsumer.python) throws -> [Result] {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure("no Python environment with pypmml at \(python.path). Fix: run .ci/setup (it installs a Java runtime and creates .build-py/venv with pypmml)")
        }
        let dir = Fixtures.temporaryDirectory()
        defer {
            // PMML_TEST_KEEP=<dir> keeps the documents and the consumer's input and output for a look.
            if let keep = ProcessInfo.processInfo.environment["PMML_TEST_KEEP"] {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? FileManager.default.copyItem(at: dir, to: URL(fileURLWithPath: keep).appendingPathComponent(dir.lastPathComponent))
            }
            try? FileManager.default.removeItem(at: dir)
        }
        var spec = "{\"jobs\": ["
        for (k, job) in jobs.enumerated() {
            let pmmlURL = dir.appendingPathComponent("model\(k).pmml")
            try Data(job.pmml.utf8).write(to: pmmlURL)
            spec += (k == 0 ? "" : ",") + "{\"pmml\": " + json(pmmlURL.path) + ", \"rows\": ["
            for (i, row) in job.rows.enumerated() {
                spec += (i == 0 ? "" : ",") + "{" + row.keys.sorted().map { json($0) + ": " + row[$0]!.json }.joined(separator: ", ") + "}"
            }
            spec += "]}"
        }
        spec += "]}"
        let input = dir.appendingPathComponent("jobs.json"), output = dir.appendingPathComponent("results.json")
        let script = dir.appendingPathComponent("consume.py")
        try Data(spec.utf8).write(to: input)
        try Data(consumerScript.utf8).write(to: script)

        let process = Process()
        process.executableURL = python
        process.arguments = [script.path, input.path, output.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: errData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            if process.terminationStatus == 3 {
                throw Failure("pypmml cannot be imported by \(python.path) (\(stderr.suffix(400))). Fix: run .ci/setup")
            }
            throw Failure("the PMML consumer failed (status \(process.terminationStatus)): \(stderr.suffix(3000))")
        }
        let data = try Data(contentsOf: output)
        guard let top = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw Failure("unreadable consumer output")
        }
        return try top.map { job in
            guard let rows = job["outputs"] as? [[String: Any]], let v = job["verification"] as? [String: Any] else {
                throw Failure("unreadable consumer output")
            }
            return Result(outputs: rows.map { row in row.mapValues(PMMLCell.decoded) },
                          verificationRecords: v["records"] as? Int ?? -1, verificationCells: v["cells"] as? Int ?? -1,
                          verificationMismatches: v["mismatches"] as? [String] ?? ["unreadable"])
        }
    }

    static func json(_ s: String) -> String { jsonStringLiteral(s) }

    /// The rows of scoring columns as the consumer's input (numbers stay numbers, missing is null).
    static func rows(_ columns: [String: ScoringColumn], names: [String], count: Int) -> [[String: PMMLCell]] {
        (0..<count).map { i in
            var row: [String: PMMLCell] = [:]
            for name in names {
                switch columns[name] {
                case .numbers(let x)?: row[name] = x[i].isNaN ? .missing : .number(x[i])
                case .strings(let s)?: row[name] = s[i].map(PMMLCell.text) ?? .missing
                case nil: row[name] = .missing
                }
            }
            return row
        }
    }

    /// Reads numbers as Python's repr (exact), text as text, null as missing.
    static let consumerScript = #"""
import json, math, sys
import xml.etree.ElementTree as ET
try:
    from pypmml import Model
except Exception as e:
    print("cannot import pypmml: %r" % (e,), file=sys.stderr)
    sys.exit(3)

NS = "{http://www.dmg.org/PMML-4_4}"

def encode(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return {"t": str(v).lower()}
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return None
        return {"n": repr(float(v))}
    return {"t": str(v)}

def decode(v):
    if v is None:
        return None
    if "n" in v:
        return float(v["n"])
    return v["t"]

def verify(path, model):
    root = ET.parse(path).getroot()
    types = {f.get("name"): f.get("dataType") for f in root.iter(NS + "DataField")}
    mv = None
    for el in root.iter(NS + "ModelVerification"):
        mv = el
    if mv is None:
        return {"records": 0, "cells": 0, "mismatches": []}
    inputs = set(m.get("name") for m in root.iter(NS + "MiningField") if m.get("usageType", "active") == "active")
    fields = [(f.get("field"), f.get("column") or f.get("field"), float(f.get("precision", "1e-6")), float(f.get("zeroThreshold", "1e-16")))
              for f in mv.find(NS + "VerificationFields")]
    rows = mv.find(NS + "InlineTable").findall(NS + "row")
    records, expected = [], []
    for row in rows:
        cells = {c.tag[len(NS):] if c.tag.startswith(NS) else c.tag: (c.text or "") for c in row}
        rec, exp = {}, {}
        for field, column, precision, zero in fields:
            text = cells.get(column)
            if field in inputs:
                if text is None:
                    rec[field] = None
                elif types.get(field) == "double":
                    rec[field] = float(text)
                else:
                    rec[field] = text
            elif text is not None:
                exp[field] = (text, precision, zero)
        records.append(rec)
        expected.append(exp)
    results = json.loads(model.predict(json.dumps(records)))
    mismatches, cells = [], 0
    for i, (res, exp) in enumerate(zip(results, expected)):
        for field, (text, precision, zero) in exp.items():
            cells += 1
            actual = res.get(field)
            try:
                e = float(text)
                numeric = types.get(field) != "string"
            except ValueError:
                numeric = False
            if numeric and isinstance(actual, (int, float)) and not isinstance(actual, bool):
                if abs(e) < zero:
                    ok = abs(actual) < zero
                else:
                    ok = abs(actual - e) <= precision * abs(e)
            else:
                ok = actual is not None and str(actual) == text
            if not ok and len(mismatches) < 20:
                mismatches.append("record %d %s: expected %s, consumer %r" % (i + 1, field, text, actual))
    return {"records": len(rows), "cells": cells, "mismatches": mismatches}

spec = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
for job in spec["jobs"]:
    model = Model.fromFile(job["pmml"])
    rows = [{k: decode(v) for k, v in r.items()} for r in job["rows"]]
    results = json.loads(model.predict(json.dumps(rows))) if rows else []
    out.append({
        "outputs": [{k: encode(v) for k, v in r.items()} for r in results],
        "verification": verify(job["pmml"], model),
    })
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f)
Model.close()
"""#
}

/// A value crossing to and from the consumer.
enum PMMLCell: Equatable, CustomStringConvertible {
    case number(Double)
    case text(String)
    case missing

    /// The cell as the script's tagged JSON: numbers as exact text, so no digit is lost either way.
    var json: String {
        switch self {
        case .number(let x): return "{\"n\": \"\(x)\"}"
        case .text(let s): return "{\"t\": " + PMMLConsumer.json(s) + "}"
        case .missing: return "null"
        }
    }

    static func decoded(_ any: Any) -> PMMLCell {
        guard let d = any as? [String: Any] else { return .missing }
        if let n = d["n"] as? String, let x = Double(n) { return .number(x) }
        if let t = d["t"] as? String { return .text(t) }
        return .missing
    }

    var number: Double? { if case .number(let x) = self { return x } else { return nil } }
    var text: String? { if case .text(let s) = self { return s } else { return nil } }
    var description: String {
        switch self {
        case .number(let x): return "\(x)"
        case .text(let s): return s.debugDescription
        case .missing: return "missing"
        }
    }
}

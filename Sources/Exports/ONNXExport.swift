import Foundation
import ScoringCore

public enum ONNXExport {
    public static func render(_ model: ModelArtifact, options: ExportOptions) throws -> Data {
        throw ExportError("the ONNX export is not written yet")
    }
}

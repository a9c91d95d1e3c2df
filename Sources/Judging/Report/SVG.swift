import Foundation

/// A small SVG plotting layer: linear axes with ticks and labels, lines, points, bars, error bars.
/// Colours come from CSS classes so one chart reads in light and dark themes and in print.
struct Plot {
    var width = 560.0, height = 320.0
    var left = 56.0, right = 16.0, top = 28.0, bottom = 48.0
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>
    var title: String
    var xLabel: String
    var yLabel: String
    private(set) var body = ""

    init(title: String, x: ClosedRange<Double>, y: ClosedRange<Double>, xLabel: String, yLabel: String,
         width: Double = 560, height: Double = 320) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.width = width; self.height = height
        self.x = x.lowerBound < x.upperBound ? x : (x.lowerBound - 1)...(x.upperBound + 1)
        self.y = y.lowerBound < y.upperBound ? y : (y.lowerBound - 1)...(y.upperBound + 1)
    }

    func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * (width - left - right) }
    func py(_ v: Double) -> Double { height - bottom - (v - y.lowerBound) / (y.upperBound - y.lowerBound) * (height - top - bottom) }

    mutating func line(_ points: [(Double, Double)], cls: String, dashed: Bool = false) {
        guard points.count > 1 else { return }
        let d = points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f($0.element.0, px)),\(f($0.element.1, py))" }.joined()
        body += "<path class=\"\(cls)\" d=\"\(d)\" fill=\"none\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
    }

    mutating func points(_ points: [(Double, Double)], cls: String, radius: Double = 3.5, titles: [String]? = nil) {
        for (i, p) in points.enumerated() {
            body += "<circle class=\"\(cls)\" cx=\"\(f(p.0, px))\" cy=\"\(f(p.1, py))\" r=\"\(radius)\">"
            if let t = titles?[i] { body += "<title>\(escape(t))</title>" }
            body += "</circle>"
        }
    }

    /// Vertical bars from y = base.
    mutating func bars(_ bars: [(x0: Double, x1: Double, y: Double)], cls: String, base: Double = 0) {
        for b in bars {
            let x0 = px(b.x0), x1 = px(b.x1), y0 = py(base), y1 = py(b.y)
            body += "<rect class=\"\(cls)\" x=\"\(r(min(x0, x1)))\" y=\"\(r(min(y0, y1)))\" width=\"\(r(abs(x1 - x0)))\" height=\"\(r(abs(y1 - y0)))\"/>"
        }
    }

    /// Horizontal interval whiskers at y (for coefficient plots), or vertical at x.
    mutating func whisker(x0: Double, x1: Double, y: Double, cls: String) {
        body += "<line class=\"\(cls)\" x1=\"\(f(x0, px))\" x2=\"\(f(x1, px))\" y1=\"\(f(y, py))\" y2=\"\(f(y, py))\"/>"
    }
    mutating func whisker(x: Double, y0: Double, y1: Double, cls: String) {
        body += "<line class=\"\(cls)\" x1=\"\(f(x, px))\" x2=\"\(f(x, px))\" y1=\"\(f(y0, py))\" y2=\"\(f(y1, py))\"/>"
    }

    mutating func text(_ s: String, x: Double, y: Double, anchor: String = "start", cls: String = "label") {
        body += "<text class=\"\(cls)\" x=\"\(f(x, px))\" y=\"\(f(y, py))\" text-anchor=\"\(anchor)\">\(escape(s))</text>"
    }

    /// The finished chart: frame, ticks, axis labels, then the layers drawn so far.
    func svg(xTicks: [(Double, String)]? = nil, yTicks: [(Double, String)]? = nil, legend: [(String, String)] = []) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        s += "<text class=\"title\" x=\"\(r(left))\" y=\"16\">\(escape(title))</text>"
        let xt = xTicks ?? Self.ticks(x).map { ($0, Self.tickLabel($0)) }
        let yt = yTicks ?? Self.ticks(y).map { ($0, Self.tickLabel($0)) }
        for (v, label) in xt where x.contains(v) {
            s += "<line class=\"grid\" x1=\"\(f(v, px))\" x2=\"\(f(v, px))\" y1=\"\(r(top))\" y2=\"\(r(height - bottom))\"/>"
            s += "<text class=\"tick\" x=\"\(f(v, px))\" y=\"\(r(height - bottom + 14))\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        for (v, label) in yt where y.contains(v) {
            s += "<line class=\"grid\" x1=\"\(r(left))\" x2=\"\(r(width - right))\" y1=\"\(f(v, py))\" y2=\"\(f(v, py))\"/>"
            s += "<text class=\"tick\" x=\"\(r(left - 6))\" y=\"\(r(py(v) + 4))\" text-anchor=\"end\">\(escape(label))</text>"
        }
        s += "<rect class=\"frame\" x=\"\(r(left))\" y=\"\(r(top))\" width=\"\(r(width - left - right))\" height=\"\(r(height - top - bottom))\" fill=\"none\"/>"
        s += body
        s += "<text class=\"axis\" x=\"\(r((left + width - right) / 2))\" y=\"\(r(height - 10))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text class=\"axis\" transform=\"translate(14 \(r((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for (i, item) in legend.enumerated() {
            let lx = width - right - 150, ly = top + 14 + Double(i) * 16
            s += "<rect class=\"\(item.0)\" x=\"\(r(lx))\" y=\"\(r(ly - 9))\" width=\"12\" height=\"10\"/>"
            s += "<text class=\"tick\" x=\"\(r(lx + 18))\" y=\"\(r(ly))\">\(escape(item.1))</text>"
        }
        return s + "</svg>"
    }

    /// About five round ticks across a range.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var v = ceil(range.lowerBound / step) * step
        var out: [Double] = []
        while v <= range.upperBound + step * 1e-9 && out.count < 50 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        let s = String(format: "%.3g", v)
        return s
    }

    private func f(_ v: Double, _ map: (Double) -> Double) -> String { r(map(v)) }
    private func r(_ v: Double) -> String { String(format: "%.1f", v.isFinite ? v : 0) }
}

func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

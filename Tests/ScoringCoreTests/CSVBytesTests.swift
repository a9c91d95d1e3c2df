import Support
import Testing

/// One quoting rule (RFC 4180) for every CSV the tool writes: a field is quoted when it holds a comma,
/// a quote or a line break of either kind, and its quotes are doubled.
@Suite struct CSVBytesTests {
    @Test(arguments: [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""), ("cr\ronly", "\"cr\ronly\""), ("crlf\r\nend", "\"crlf\r\nend\""),
        ("", ""), ("Zoë", "Zoë"),
    ])
    func fieldsAreQuotedOnlyWhenTheyMustBe(text: String, csv: String) {
        #expect(CSVBytes.quoted(text) == csv)
        var bytes = CSVBytes()
        bytes.field(text)
        #expect(bytes.bytes == Array(csv.utf8))
    }
}

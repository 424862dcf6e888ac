// ChromiumCheckTests — scripts/check-report-chromium.sh on a report: in headless Chromium the page's
// script runs without error and redraws every smoothed curve as computed, and a screenshot is written; a
// page whose script breaks fails the check. Chromium is optional (CI need not have it): without it these
// tests are skipped, saying so; the script's own usage errors are checked either way.
import Foundation
import Report
import TestSupport
import Testing

@Suite struct ChromiumCheckTests {
    static let script = TestPaths.packageRoot.appendingPathComponent("scripts/check-report-chromium.sh")

    /// The browser the script would use, if this machine has one.
    static let browser: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    static func check(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path] + arguments)
    }

    @Test(.enabled(if: browser != nil, "chromium is not installed (Debian: apt-get install chromium): the report's script is not run in a browser"))
    func theReportScriptRunsInHeadlessChromium() throws {
        let fixture = try SaturationStore.complete()
        let page = fixture.scratch.path("report.html")
        try HTMLReport.write(try fixture.report(), to: page)
        let screenshot = fixture.scratch.path("report.png")
        let result = try Self.check([page.path, screenshot.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        // train/loss and train/val_loss, three runs each.
        #expect(result.stdout.contains("script ran; 6 smoothed curves redrawn at 0.60 and 0.90 as computed"), "\(result.stdout)")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
    }

    @Test(.enabled(if: browser != nil, "chromium is not installed (Debian: apt-get install chromium): the report's script is not run in a browser"))
    func aPageWhoseScriptBreaksFailsTheCheck() throws {
        let fixture = try SaturationStore.complete()
        let html = HTMLReport.render(try fixture.report())
        let broken = html.replacingOccurrences(of: "root.setAttribute('data-script', 'ready');", with: "notDefinedAnywhere();")
        #expect(broken != html)
        let page = fixture.scratch.path("broken.html")
        try broken.write(to: page, atomically: true, encoding: .utf8)
        let result = try Self.check([page.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("check-report-chromium: FAILED"))
        #expect(result.stderr.contains("default: the script did not finish (data-script=None)"), "\(result.stderr)")
        #expect(result.stderr.contains("script error: Uncaught ReferenceError: notDefinedAnywhere is not defined"), "\(result.stderr)")
    }

    @Test func usageErrorsNeedNoBrowser() throws {
        let missing = try Self.check(["/nonexistent/report.html"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "check-report-chromium: no report at /nonexistent/report.html\n")
        let usage = try Self.check([])
        #expect(usage.status == 2)
        #expect(usage.stderr.hasPrefix("usage: "))
    }
}

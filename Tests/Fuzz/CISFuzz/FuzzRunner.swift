#if FUZZING
import CFuzzDriver
#endif
import Foundation

/// Runs one fuzz target. Built with `-sanitize=fuzzer` and `-D FUZZING` (`scripts/fuzz.sh`),
/// it hands the remaining arguments to libFuzzer's driver; in an ordinary build it replays
/// the files (or every file in the directories) it is given, so that a crash artifact can be
/// reproduced with a debugger and the targets always compile.
enum FuzzRunner {
    /// Read by libFuzzer's child processes (`-merge=1`), which get the arguments without the target name.
    static let targetVariable = "CIS_FUZZ_TARGET"

    nonisolated(unsafe) private static var check: (([UInt8]) -> Void)?

    static func main(targets: [String: ([UInt8]) -> Void]) -> Never {
        var arguments = CommandLine.arguments
        let name: String
        if arguments.count > 1, targets[arguments[1]] != nil {
            name = arguments.remove(at: 1)
            setenv(Self.targetVariable, name, 1)
        } else if let fromEnvironment = ProcessInfo.processInfo.environment[Self.targetVariable], targets[fromEnvironment] != nil {
            name = fromEnvironment
        } else {
            FileHandle.standardError.write(Data("""
                usage: cis-fuzz <target> [libFuzzer options | files and directories to replay]
                targets: \(targets.keys.sorted().joined(separator: " "))

                """.utf8))
            exit(64)
        }
        Self.check = targets[name]
        #if FUZZING
        var argc = CInt(arguments.count)
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = UnsafeMutablePointer.allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
        argv![arguments.count] = nil
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzRunner.testOneInput(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        exit(Self.replay(arguments.dropFirst().filter { !$0.hasPrefix("-") }))
        #endif
    }

    static func testOneInput(_ bytes: [UInt8]) {
        guard let check = Self.check else { fatalError("cis-fuzz: no target chosen") }
        check(bytes)
    }

    /// Runs the target on every file named or found (one level deep) in a named directory.
    private static func replay(_ paths: [String]) -> Int32 {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("cis-fuzz: no such file or directory: \(path)\n".utf8))
                return 66
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cis-fuzz: cannot read \(file)\n".utf8))
                return 66
            }
            Self.testOneInput(Array(data))
        }
        print("cis-fuzz: replayed \(files.count) inputs without a violated invariant")
        return 0
    }
}

#if FUZZING
/// Linking with `-sanitize=fuzzer` pulls in libFuzzer's own `main`, which needs this symbol;
/// the program's `main` (SwiftPM's `--defsym main=cis_fuzz_main`) wins, so libFuzzer enters
/// through `FuzzRunner.main`, and this is reached only through a check already chosen.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzRunner.testOneInput(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#endif

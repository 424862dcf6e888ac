// TokenStoreTests — the token store a `tokenize` stage writes and the model kinds read: built from a real
// corpus (the fortune tiers) under a trained tokenizer, it holds every scene as the tokenizer encodes a
// training document, in corpus order; the same bytes with one thread or two; a second store links every
// document of the first instead of encoding it again; and damaged stores are refused naming the file.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing
import Tokenizers

@Suite struct TokenStoreTests {
    let source: CorpusAndTokenizer
    var project: StagesProject { source.project }
    var corpus: CorpusReader { source.corpus }
    var tokenizerDirectory: URL { source.tokenizerDirectory }
    var tokenizer: any Tokenizer { source.tokenizer }

    init() throws { source = try CorpusAndTokenizer() }

    func build(_ name: String, threads: Int, reuse: [String: TokenStore.ReusableDocument] = [:]) throws -> (URL, TokenStoreBuilder.Summary) {
        try source.buildStore(name, threads: threads, reuse: reuse)
    }

    func files(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: directory.path).sorted() {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = try Data(contentsOf: url)
            }
        }
        return files
    }

    @Test func everySceneIsItsTrainingDocumentInCorpusOrderWhateverTheThreads() throws {
        let (one, summary) = try build("one", threads: 1)
        let (two, _) = try build("two", threads: 2)
        #expect(try files(one) == files(two))
        let store = try TokenStore(directory: one)
        #expect(store.header.tokenizer == (try TokenStoreBuilder.tokenizerDigest(directory: tokenizerDirectory)))
        #expect(store.header.dtype == .uint16 && store.header.tiers == corpus.tierNames)
        #expect(summary.encoded == store.documents.count && summary.reused == 0)
        // Store order is corpus order: split by split, the scenes forEachScene gives.
        var expected: [(tier: String, split: String, ids: [Int])] = []
        for split in CorpusSplit.allCases {
            try corpus.forEachScene(split: split) { expected.append(($0.tier, split.rawValue, tokenizer.encodeDocument($0.text))) }
        }
        var stored: [(tier: String, split: String, ids: [Int])] = []
        for (index, document) in store.documents.enumerated() {
            let tokens = try store.tokens(ofDocument: index)
            for record in store.records(ofDocument: index) {
                #expect(record.document == index)
                stored.append((document.tier, document.split, Array(tokens[record.offset..<(record.offset + record.tokens)])))
            }
        }
        #expect(stored.count == expected.count && summary.scenes == expected.count)
        #expect(zip(stored, expected).allSatisfy { $0.tier == $1.tier && $0.split == $1.split && $0.ids == $1.ids })
        #expect(store.header.suffixTokens == tokenizer.encodeDocument("x").count - tokenizer.encodePrompt("x").count)
        // What eval scores: each scene's prompt, without the document's suffix or EOS.
        let heldOut = try CorpusSelection.texts(of: corpus, split: .validation, tiers: ["core", "orbit"])
        #expect(try store.scenePrompts(split: .validation, tiers: ["core", "orbit"], count: heldOut.count) == heldOut.map { tokenizer.encodePrompt($0) })
        #expect(try store.scenePrompts(split: .validation, tiers: ["core", "orbit"], count: 3) == heldOut.prefix(3).map { tokenizer.encodePrompt($0) })
        let trainCore = store.documents(split: .train, tiers: ["core"])
        #expect(!trainCore.isEmpty && trainCore.allSatisfy { store.documents[$0].tier == "core" && store.documents[$0].split == "train" })
    }

    @Test func aSecondStoreLinksTheDocumentsTheFirstHolds() throws {
        let (first, _) = try build("cache/first", threads: 2)
        let digest = try TokenStoreBuilder.tokenizerDigest(directory: tokenizerDirectory)
        let reuse = TokenStore.reusableDocuments(under: first.deletingLastPathComponent(), tokenizer: digest, dtype: .uint16)
        #expect(reuse.count == (try TokenStore(directory: first)).documents.count)
        let (second, summary) = try build("second", threads: 2, reuse: reuse)
        #expect(summary.encoded == 0 && summary.reused == reuse.count)
        #expect(try files(first) == files(second))
        // Linked, not copied: the same file on disk.
        let document = try TokenStore(directory: second).documents[0].file
        let inode = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int }
        #expect(try inode(first.appendingPathComponent(document)) == inode(second.appendingPathComponent(document)))
        // Another tokenizer's stores are not reused.
        #expect(TokenStore.reusableDocuments(under: first.deletingLastPathComponent(), tokenizer: "other", dtype: .uint16).isEmpty)
    }

    @Test func booksAreChosenInANestedSeededOrder() throws {
        let store = try TokenStore(directory: try build("books", threads: 1).0)
        let train = store.documents(split: .train, tiers: corpus.tierNames)
        let order = store.booksInSeededOrder(of: train, seed: 3)
        #expect(Set(order) == Set(train.map { store.documents[$0].source }) && order.count == 3)
        #expect(store.booksInSeededOrder(of: train, seed: 3) == order)
        #expect((0..<8).contains { store.booksInSeededOrder(of: train, seed: $0) != order })
        var previous = Set<Int>()
        for count in 1...order.count {
            let chosen = store.documents(train, firstBooks: count, seed: 3)
            #expect(chosen.books == count && chosen.of == order.count)
            #expect(Set(chosen.documents).isSuperset(of: previous) && chosen.documents == chosen.documents.sorted())
            #expect(Set(chosen.documents.map { store.documents[$0].source }) == Set(order.prefix(count)))
            previous = Set(chosen.documents)
        }
        #expect(store.documents(train, firstBooks: 0, seed: 3).documents == train)
        #expect(store.documents(train, firstBooks: 99, seed: 3).books == order.count)
    }

    @Test func damagedStoresAreRefusedNamingTheFile() throws {
        let (store, _) = try build("damaged", threads: 1)
        let header = store.appendingPathComponent("store.json")
        let documentFile = store.appendingPathComponent(try TokenStore(directory: store).documents[0].file)
        let tokens = try TokenStore(directory: store).documents[0].tokens
        try Data(try Data(contentsOf: documentFile).dropLast(2)).write(to: documentFile)
        #expect(errorMessage { _ = try TokenStore(directory: store).tokens(ofDocument: 0) }
            == "\(documentFile.path): holds \(2 * tokens - 2) bytes, expected \(tokens) uint16 tokens")
        let records = store.appendingPathComponent("records.bin")
        try Data(try Data(contentsOf: records).dropLast(1)).write(to: records)
        #expect(errorMessage { _ = try TokenStore(directory: store) }?.hasPrefix("\(records.path): holds ") == true)
        try Data("{}".utf8).write(to: header)
        #expect(errorMessage { _ = try TokenStore(directory: store) }?.hasPrefix("\(header.path): does not decode as a token store header") == true)
        #expect(errorMessage { _ = try TokenStore(directory: project.root) }
            == "\(project.root.appendingPathComponent("store.json").path): missing or unreadable (a token store holds store.json, records.bin and docs/)")
    }
}

// RecipeLoader — reads a recipe (following `extends:`), the pipeline it names, its inline stages and
// variants; checks keys, stage kinds, edges (missing stages, cycles) and every variant's parameters
// against the kinds' schemas. Every problem found is reported at once, each at its file:line:column.
import Foundation

public struct RecipeLoader {
    public let registry: StageKindRegistry

    static let recipeKeys = ["pipeline", "description", "extends", "params", "stages", "variants", "sweep", "executor"]
    static let pipelineKeys = ["description", "stages"]
    static let stageKeys = ["kind", "after", "params", "description"]
    static let variantKeys = ["description", "params"]

    public init(registry: StageKindRegistry) {
        self.registry = registry
    }

    public func load(_ file: URL) throws -> Recipe {
        var session = LoadSession(registry: registry)
        let recipe = session.load(file.standardizedFileURL)
        guard let recipe, session.errors.isEmpty else {
            // In file order, so the list reads top to bottom (a pipeline's errors before the recipe's if it comes first).
            let sorted = session.errors.enumerated().sorted { a, b in
                guard let x = a.element.location, let y = b.element.location, x.file == y.file else { return a.offset < b.offset }
                return (x.line, x.column) < (y.line, y.column)
            }.map(\.element)
            throw RecipeErrorList(sorted.isEmpty ? [RecipeError("cannot load recipe", at: nil)] : sorted)
        }
        return recipe
    }

    /// How a path is shown in messages: relative to the working directory when under it.
    public static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
        return path
    }

    /// One error per key of `entries` that is not `allowed`. Keys starting with `x-` are free (as in
    /// docker-compose): a place to define YAML anchors.
    static func unknownKeys(_ entries: [SourceEntry], allowed: [String], what: String) -> [RecipeError] {
        entries.filter { !allowed.contains($0.key) && !$0.key.hasPrefix("x-") }.map { entry in
            RecipeError("unknown \(what)\(NearestName.hint(for: entry.key, among: allowed)) (valid: \(allowed.joined(separator: ", ")))",
                        at: entry.keyLocation, keyPath: entry.value.keyPath)
        }
    }

    /// The nearest ancestor of `file` holding a `pipelines/` directory, else the file's directory.
    public static func projectDirectory(for file: URL) -> URL {
        let start = file.deletingLastPathComponent().standardizedFileURL
        var candidate = start
        while true {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("pipelines").path, isDirectory: &isDirectory),
               isDirectory.boolValue {
                return candidate
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { return start }
            candidate = parent
        }
    }
}

/// One load: accumulates errors instead of stopping at the first.
private struct LoadSession {
    let registry: StageKindRegistry
    var errors: [RecipeError] = []

    init(registry: StageKindRegistry) { self.registry = registry }

    mutating func report(_ error: RecipeError) {
        if !errors.contains(error) { errors.append(error) }
    }

    mutating func report(_ list: RecipeErrorList) {
        for error in list.errors { report(error) }
    }

    mutating func load(_ file: URL) -> Recipe? {
        let displayPath = RecipeLoader.displayPath(file)
        guard let root = readWithExtends(file, chain: []) else { return nil }
        guard let entries = root.entries else {
            report(RecipeError("a recipe is a map of keys (\(RecipeLoader.recipeKeys.joined(separator: ", ")))", at: root.location))
            return nil
        }
        checkKeys(entries, allowed: RecipeLoader.recipeKeys, what: "recipe key")
        let projectDirectory = RecipeLoader.projectDirectory(for: file)

        var declarations: [StageDeclarationNode] = []
        var pipelineName: String?
        if let pipelineNode = root["pipeline"] {
            if let name = pipelineNode.scalarText {
                pipelineName = name
                if let pipeline = loadPipeline(named: name, node: pipelineNode, projectDirectory: projectDirectory) {
                    declarations = pipeline
                }
            } else {
                report(RecipeError("expected a pipeline name (a file in pipelines/), got \(pipelineNode.shortDescription)",
                                   at: pipelineNode.location, keyPath: "pipeline"))
            }
        }
        if let inline = root["stages"] {
            declarations = mergeStages(declarations, with: stageNodes(inline))
        }
        if declarations.isEmpty, errors.isEmpty {
            report(RecipeError("the recipe has no stages: name a pipeline (`pipeline: NAME`) or declare `stages:`",
                               at: root.location))
        }

        let stages = checkStages(declarations)
        let stageNames = stages.map(\.name)
        let recipeParams = paramsByStage(root["params"], stageNames: stageNames)

        var variantNodes: [(name: String, params: [String: SourceNode])] = []
        if let variantsNode = root["variants"] {
            if let variantEntries = variantsNode.entries {
                for entry in variantEntries {
                    variantNodes.append((entry.key, checkVariant(entry, stageNames: stageNames)))
                }
            } else if !variantsNode.isNull {
                report(RecipeError("expected a map of variant names to overrides, got \(variantsNode.shortDescription)",
                                   at: variantsNode.location, keyPath: "variants"))
            }
        }
        if let sweepNode = root["sweep"], !sweepNode.isNull {
            let combinations = sweepVariants(sweepNode, stageNames: stageNames)
            if !combinations.isEmpty {
                // Crossed with the written variants: `core+books-10+books_seed-1`.
                let bases = variantNodes.isEmpty ? [("", [String: SourceNode]())] : variantNodes
                variantNodes = bases.flatMap { base in
                    combinations.map { combination in
                        var overrides = base.1
                        for (stage, node) in combination.params { overrides[stage] = SourceNode.merge(overrides[stage], node) }
                        return (base.0.isEmpty ? combination.name : base.0 + "+" + combination.name, overrides)
                    }
                }
            }
        }
        var variants: [String: [ResolvedStage]] = [:]
        let variantList = variantNodes.isEmpty ? [("", [String: SourceNode]())] : variantNodes
        for (variantName, overrides) in variantList {
            var resolved: [ResolvedStage] = []
            var written: [String: SourceNode] = [:], owners: [String: SourceNode] = [:]
            for stage in stages {
                guard let descriptor = stage.descriptor else { continue }
                var params = stage.declaration.params
                if let recipe = recipeParams[stage.name] { params = SourceNode.merge(params, recipe) }
                if let variant = overrides[stage.name] { params = SourceNode.merge(params, variant) }
                switch ParamValidator.validate(params, against: descriptor.schema, owner: stage.declaration.node,
                                               projectDirectory: projectDirectory) {
                case .success(let validated):
                    checkRulesBetweenKeys(validated, of: stage.name, descriptor: descriptor, params: params, owner: stage.declaration.node)
                    resolved.append(ResolvedStage(name: stage.name, descriptor: descriptor, after: stage.after, params: validated))
                    written[stage.name] = params
                    owners[stage.name] = stage.declaration.node
                case .failure(let list):
                    report(list)
                }
            }
            checkTierNames(resolved, written: written, owners: owners)
            variants[variantName] = resolved
        }
        var executorSection = ExecutorSection(kindNames: registry.kindNames, stageNames: stageNames)
        let executor = executorSection.read(root["executor"])
        for error in executorSection.errors { report(error) }
        guard errors.isEmpty else { return nil }
        return Recipe(
            name: file.deletingPathExtension().lastPathComponent, file: file, displayPath: displayPath,
            projectDirectory: projectDirectory, description: root["description"]?.scalarText,
            pipelineName: pipelineName, variantNames: variantNodes.map(\.name),
            variantsLocation: root.entry("variants")?.keyLocation ?? root.location, variants: variants, executor: executor)
    }

    /// Runs the kind's rules between keys on the resolved parameters; a broken rule is reported at the key
    /// it names where the recipe wrote it (else at the nearest section written, else at the stage).
    mutating func checkRulesBetweenKeys(
        _ validated: ValidatedParams, of stageName: String, descriptor: StageKindDescriptor, params: SourceNode?, owner: SourceNode
    ) {
        guard let check = descriptor.checkParameters else { return }
        do {
            try check(StageParameters(validated.resolved))
        } catch let broken as ParameterConstraintError {
            var node = params, written = params
            for key in broken.keyPath.split(separator: ".").map(String.init) {
                node = node?[key]
                if let node { written = node }
            }
            let keyPath = node?.keyPath ?? "\(params?.keyPath ?? "params.\(stageName)").\(broken.keyPath)"
            report(RecipeError(broken.problem, at: (node ?? written)?.location ?? owner.location, keyPath: keyPath))
        } catch {
            report(RecipeError("\(error)", at: owner.location, keyPath: "params.\(stageName)"))
        }
    }

    /// Every tier a stage names (its kind's `tierKeys`) must be one the corpus stages upstream of it
    /// declare: `unknown tier 'cor' — did you mean core? (the corpus has core, orbit, fractal)`, at
    /// the value's file, line and column — before any stage runs, not when the stage starts.
    mutating func checkTierNames(_ stages: [ResolvedStage], written: [String: SourceNode], owners: [String: SourceNode]) {
        let byName = Dictionary(stages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for stage in stages where !stage.descriptor.tierKeys.isEmpty {
            // The tiers declared by the corpus stages this stage depends on, directly or not.
            var declared: [String] = [], seen: Set<String> = [], pending = stage.after, foundCorpus = false
            while let name = pending.popLast() {
                guard seen.insert(name).inserted, let upstream = byName[name] else { continue }
                if let tiers = upstream.descriptor.declaredTiers {
                    foundCorpus = true
                    for tier in tiers(StageParameters(upstream.params.resolved)) where !declared.contains(tier) { declared.append(tier) }
                }
                pending += upstream.after
            }
            guard foundCorpus else { continue }
            let params = StageParameters(stage.params.resolved)
            for key in stage.descriptor.tierKeys {
                let named = params.value(key)?.arrayValue?.compactMap(\.stringValue) ?? params.value(key)?.stringValue.map { [$0] } ?? []
                for (index, tier) in named.enumerated() where !declared.contains(tier) {
                    let node = written[stage.name]?[key]
                    let valueNode = node?.items.flatMap { index < $0.count ? $0[index] : nil } ?? node
                    let keyPath = node?.keyPath ?? "stages.\(stage.name).params.\(key)"
                    report(RecipeError(
                        "unknown tier '\(tier)'\(NearestName.hint(for: tier, among: declared)) (the corpus has \(declared.joined(separator: ", ")))",
                        at: (valueNode ?? owners[stage.name])?.location, keyPath: keyPath))
                }
            }
        }
    }

    // MARK: extends

    mutating func readWithExtends(_ file: URL, chain: [URL]) -> SourceNode? {
        let node: SourceNode
        do {
            node = try SourceNode.load(contentsOf: file, displayPath: RecipeLoader.displayPath(file))
        } catch let error as RecipeError {
            report(error)
            return nil
        } catch {
            report(RecipeError("\(error)", at: nil, keyPath: RecipeLoader.displayPath(file)))
            return nil
        }
        guard let extendsEntry = node.entry("extends"), let entries = node.entries else { return node }
        let bases: [SourceNode] = extendsEntry.value.items ?? [extendsEntry.value]
        var merged: SourceNode?
        for baseNode in bases {
            guard let written = baseNode.scalarText, !written.isEmpty else {
                report(RecipeError("expected a recipe file to extend, got \(baseNode.shortDescription)",
                                   at: baseNode.location, keyPath: baseNode.keyPath))
                continue
            }
            let baseFile = URL(fileURLWithPath: written, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
            if baseFile.path == file.path || chain.contains(where: { $0.path == baseFile.path }) {
                let cycle = (chain + [file, baseFile]).map { $0.lastPathComponent }.joined(separator: " → ")
                report(RecipeError("extends cycle: \(cycle)", at: baseNode.location, keyPath: baseNode.keyPath))
                continue
            }
            guard FileManager.default.fileExists(atPath: baseFile.path) else {
                let siblings = yamlFiles(in: baseFile.deletingLastPathComponent())
                report(RecipeError(
                    "cannot extend \(written): no such file\(NearestName.hint(for: baseFile.lastPathComponent, among: siblings))",
                    at: baseNode.location, keyPath: baseNode.keyPath))
                continue
            }
            if let base = readWithExtends(baseFile, chain: chain + [file]) {
                merged = merged.map { SourceNode.merge($0, base) } ?? base
            }
        }
        let own = SourceNode(.mapping(entries.filter { $0.key != "extends" }), at: node.location, keyPath: node.keyPath)
        return SourceNode.merge(merged, own)
    }

    // MARK: pipelines and stages

    mutating func loadPipeline(named name: String, node: SourceNode, projectDirectory: URL) -> [StageDeclarationNode]? {
        let pipelinesDirectory = projectDirectory.appendingPathComponent("pipelines")
        let file: URL
        if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            file = URL(fileURLWithPath: name, relativeTo: projectDirectory).standardizedFileURL
        } else {
            file = pipelinesDirectory.appendingPathComponent("\(name).yaml")
        }
        guard FileManager.default.fileExists(atPath: file.path) else {
            let known = yamlFiles(in: pipelinesDirectory).map { String($0.dropLast(5)) }
            var hint = NearestName.hint(for: name, among: known)
            if hint.isEmpty, !known.isEmpty { hint = " (pipelines: \(known.joined(separator: ", ")))" }
            report(RecipeError("unknown pipeline '\(name)': no \(RecipeLoader.displayPath(file))\(hint)",
                               at: node.location, keyPath: "pipeline"))
            return nil
        }
        let root: SourceNode
        do {
            root = try SourceNode.load(contentsOf: file, displayPath: RecipeLoader.displayPath(file))
        } catch let error as RecipeError {
            report(error)
            return nil
        } catch {
            report(RecipeError("\(error)", at: node.location, keyPath: "pipeline"))
            return nil
        }
        guard let entries = root.entries else {
            report(RecipeError("a pipeline is a map with `stages:`", at: root.location))
            return nil
        }
        checkKeys(entries, allowed: RecipeLoader.pipelineKeys, what: "pipeline key")
        guard let stages = root["stages"] else {
            report(RecipeError("the pipeline declares no `stages:`", at: root.location))
            return nil
        }
        return stageNodes(stages)
    }

    mutating func stageNodes(_ node: SourceNode) -> [StageDeclarationNode] {
        guard let entries = node.entries else {
            if !node.isNull {
                report(RecipeError("expected a map of stage names to declarations, got \(node.shortDescription)",
                                   at: node.location, keyPath: node.keyPath))
            }
            return []
        }
        return entries.map { StageDeclarationNode(name: $0.key, nameLocation: $0.keyLocation, node: $0.value) }
    }

    /// Inline stages of the recipe: a new name adds a stage; an existing name overrides its keys.
    func mergeStages(_ base: [StageDeclarationNode], with overrides: [StageDeclarationNode]) -> [StageDeclarationNode] {
        var merged = base
        for stage in overrides {
            if let index = merged.firstIndex(where: { $0.name == stage.name }) {
                merged[index] = StageDeclarationNode(name: stage.name, nameLocation: stage.nameLocation,
                                                     node: SourceNode.merge(merged[index].node, stage.node))
            } else {
                merged.append(stage)
            }
        }
        return merged
    }

    /// Checks names, kinds and edges; returns the stages in dependency order (declaration order among equals).
    mutating func checkStages(_ declarations: [StageDeclarationNode]) -> [CheckedStage] {
        let names = declarations.map(\.name)
        var checked: [CheckedStage] = []
        for declaration in declarations {
            if declaration.name.range(of: #"^[A-Za-z][A-Za-z0-9_-]*$"#, options: .regularExpression) == nil {
                report(RecipeError("stage names start with a letter and use letters, digits, '-' and '_'",
                                   at: declaration.nameLocation, keyPath: declaration.node.keyPath))
            }
            guard let entries = declaration.node.entries else {
                report(RecipeError("expected a stage declaration (kind, after, params), got \(declaration.node.shortDescription)",
                                   at: declaration.node.location, keyPath: declaration.node.keyPath))
                continue
            }
            checkKeys(entries, allowed: RecipeLoader.stageKeys, what: "stage key")
            var after: [(String, SourceNode)] = []
            if let afterNode = declaration.node["after"], !afterNode.isNull {
                for item in afterNode.items ?? [afterNode] {
                    guard let upstream = item.scalarText else {
                        report(RecipeError("expected a stage name, got \(item.shortDescription)", at: item.location, keyPath: item.keyPath))
                        continue
                    }
                    if upstream == declaration.name {
                        report(RecipeError("stage '\(upstream)' cannot come after itself", at: item.location, keyPath: item.keyPath))
                    } else if !names.contains(upstream) {
                        report(RecipeError(
                            "unknown stage '\(upstream)'\(NearestName.hint(for: upstream, among: names)) (stages: \(names.joined(separator: ", ")))",
                            at: item.location, keyPath: item.keyPath))
                    } else {
                        after.append((upstream, item))
                    }
                }
            }
            var descriptor: StageKindDescriptor?
            if let kindNode = declaration.node["kind"], let kindName = kindNode.scalarText {
                descriptor = registry.descriptor(named: kindName)
                if descriptor == nil {
                    report(RecipeError(
                        "unknown stage kind '\(kindName)'\(NearestName.hint(for: kindName, among: registry.kindNames)) (kinds: \(registry.kindNames.joined(separator: ", ")))",
                        at: kindNode.location, keyPath: kindNode.keyPath))
                }
            } else {
                report(RecipeError("missing required key 'kind' (one of \(registry.kindNames.joined(separator: ", ")))",
                                   at: declaration.node.location, keyPath: declaration.node.keyPath))
            }
            checked.append(CheckedStage(name: declaration.name, declaration: declaration, descriptor: descriptor, afterNodes: after))
        }
        return ordered(checked)
    }

    /// Kahn's algorithm, stable in declaration order; a leftover means a cycle, reported with its path.
    mutating func ordered(_ stages: [CheckedStage]) -> [CheckedStage] {
        var remaining = stages
        var done = Set<String>()
        var result: [CheckedStage] = []
        let known = Set(stages.map(\.name))
        while let index = remaining.firstIndex(where: { stage in stage.after.allSatisfy { done.contains($0) || !known.contains($0) } }) {
            let stage = remaining.remove(at: index)
            done.insert(stage.name)
            result.append(stage)
        }
        if let cycle = findCycle(in: remaining) {
            let (path, closingEdge) = cycle
            report(RecipeError("cycle: \(path.joined(separator: " → "))", at: closingEdge.location, keyPath: closingEdge.keyPath))
        }
        return result
    }

    func findCycle(in stages: [CheckedStage]) -> ([String], SourceNode)? {
        let byName = Dictionary(stages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for start in stages {
            var path = [start.name]
            var current = start
            var visited = Set([start.name])
            while let (next, node) = current.afterNodes.first(where: { byName[$0.0] != nil }) {
                path.append(next)
                if next == start.name || visited.contains(next) {
                    let loopStart = path.firstIndex(of: next)!
                    return (Array(path[loopStart...]), node)
                }
                visited.insert(next)
                current = byName[next]!
            }
        }
        return nil
    }

    // MARK: params and variants

    mutating func paramsByStage(_ node: SourceNode?, stageNames: [String]) -> [String: SourceNode] {
        guard let node, !node.isNull else { return [:] }
        guard let entries = node.entries else {
            report(RecipeError("expected a map of stage names to parameters, got \(node.shortDescription)",
                               at: node.location, keyPath: node.keyPath))
            return [:]
        }
        var result: [String: SourceNode] = [:]
        // With no stages at all, why is already reported (no pipeline, or one that failed to load);
        // one "unknown stage" per parameter block would only bury it.
        guard !stageNames.isEmpty else { return [:] }
        for entry in entries {
            guard stageNames.contains(entry.key) else {
                report(RecipeError(
                    "unknown stage\(NearestName.hint(for: entry.key, among: stageNames)) (stages: \(stageNames.joined(separator: ", ")))",
                    at: entry.keyLocation, keyPath: entry.value.keyPath))
                continue
            }
            result[entry.key] = entry.value
        }
        return result
    }

    mutating func checkVariant(_ entry: SourceEntry, stageNames: [String]) -> [String: SourceNode] {
        if entry.key.range(of: #"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"#, options: .regularExpression) == nil {
            report(RecipeError("variant names use letters, digits and '_', '.', '+', '-'",
                               at: entry.keyLocation, keyPath: entry.value.keyPath))
        }
        if entry.value.isNull { return [:] }
        guard let entries = entry.value.entries else {
            report(RecipeError("expected a variant (description, params), got \(entry.value.shortDescription)",
                               at: entry.value.location, keyPath: entry.value.keyPath))
            return [:]
        }
        checkKeys(entries, allowed: RecipeLoader.variantKeys, what: "variant key")
        return paramsByStage(entry.value["params"], stageNames: stageNames)
    }

    /// `sweep:` — a grid over parameters, one variant per combination: each key is `STAGE.KEY[.KEY…]`, each
    /// value a list of values; the variant of a combination is named after it (`books-10+books_seed-1`).
    /// Written in order: the first key varies slowest.
    mutating func sweepVariants(_ node: SourceNode, stageNames: [String]) -> [(name: String, params: [String: SourceNode])] {
        guard let entries = node.entries, !entries.isEmpty else {
            report(RecipeError("expected a map of STAGE.KEY to lists of values, got \(node.shortDescription)", at: node.location, keyPath: "sweep"))
            return []
        }
        var axes: [(path: [String], entry: SourceEntry, values: [SourceNode])] = []
        for entry in entries {
            let path = entry.key.split(separator: ".").map(String.init)
            guard path.count >= 2, stageNames.contains(path[0]) else {
                report(RecipeError(
                    "expected STAGE.KEY with a stage of the recipe (stages: \(stageNames.joined(separator: ", ")))\(path.count >= 2 ? NearestName.hint(for: path[0], among: stageNames) : "")",
                    at: entry.keyLocation, keyPath: entry.value.keyPath))
                continue
            }
            guard let values = entry.value.items, !values.isEmpty, values.allSatisfy({ $0.scalarText != nil }) else {
                report(RecipeError("expected a non-empty list of values to sweep over, got \(entry.value.shortDescription)",
                                   at: entry.value.location, keyPath: entry.value.keyPath))
                continue
            }
            axes.append((path, entry, values))
        }
        guard axes.count == entries.count else { return [] }
        var combinations: [(name: String, params: [String: SourceNode])] = [("", [:])]
        for axis in axes {
            combinations = combinations.flatMap { combination in
                axis.values.map { value in
                    // {key: {key: value}} down the path, merged into the stage's overrides.
                    var node = value
                    for key in axis.path.dropFirst().reversed() {
                        node = SourceNode(.mapping([SourceEntry(key: key, keyLocation: axis.entry.keyLocation, value: node)]),
                                          at: axis.entry.keyLocation, keyPath: axis.entry.value.keyPath)
                    }
                    var params = combination.params
                    params[axis.path[0]] = SourceNode.merge(params[axis.path[0]], node)
                    let text = (value.scalarText ?? "").map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }
                    let part = "\(axis.path.last!)-\(String(text))"
                    return (combination.name.isEmpty ? part : combination.name + "+" + part, params)
                }
            }
        }
        return combinations
    }

    mutating func checkKeys(_ entries: [SourceEntry], allowed: [String], what: String) {
        for error in RecipeLoader.unknownKeys(entries, allowed: allowed, what: what) { report(error) }
    }

    func yamlFiles(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }
}

struct StageDeclarationNode {
    let name: String
    let nameLocation: SourceLocation
    let node: SourceNode

    var params: SourceNode? { node["params"] }
}

struct CheckedStage {
    let name: String
    let declaration: StageDeclarationNode
    /// Nil when the kind is unknown (reported); its parameters are then not checked.
    let descriptor: StageKindDescriptor?
    let afterNodes: [(String, SourceNode)]

    var after: [String] { afterNodes.map(\.0) }
}

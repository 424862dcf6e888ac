// DataParallelLaunch — which rank of a data-parallel stage this process is, and where the ranks meet:
// read from the environment a launcher sets (torchrun's and our own RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT; or, inside an `srun` step, SLURM_PROCID, SLURM_STEP_NUM_TASKS and
// SLURM_LOCALID with MASTER_ADDR/MASTER_PORT exported by the job script), or made by a stage that
// starts its own ranks on this node (`processes: N`).
//
// Rank 0 is the stage: it records status, metrics and outputs. The other ranks are followers
// (StageDriver.executeFollower): they compute and join every collective, and record nothing.
import Foundation

public struct DataParallelLaunch: Sendable, Equatable, CustomStringConvertible {
    public let rank: Int
    /// The rank among this node's ranks: picks the GPU (cuda:LOCAL_RANK).
    public let localRank: Int
    public let worldSize: Int
    /// Where rank 0 serves the rendezvous store.
    public let masterAddress: String
    public let masterPort: Int

    public init(rank: Int, localRank: Int, worldSize: Int, masterAddress: String, masterPort: Int) {
        self.rank = rank
        self.localRank = localRank
        self.worldSize = worldSize
        self.masterAddress = masterAddress
        self.masterPort = masterPort
    }

    /// The variables a rank process is started with (torchrun's names).
    public var environment: [String: String] {
        [
            "RANK": String(rank), "LOCAL_RANK": String(localRank), "WORLD_SIZE": String(worldSize),
            "MASTER_ADDR": masterAddress, "MASTER_PORT": String(masterPort),
        ]
    }

    public var description: String { "rank \(rank) of \(worldSize) (local rank \(localRank), rendezvous \(masterAddress):\(masterPort))" }

    /// The launch the environment describes; nil when this process is not one of several ranks (no
    /// RANK/WORLD_SIZE, not an srun step of several tasks, or a world of one).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DataParallelLaunch? {
        let rankKey: String, worldKey: String, localKey: String
        if environment["WORLD_SIZE"] != nil || environment["RANK"] != nil {
            (rankKey, worldKey, localKey) = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
        } else if let tasks = environment["SLURM_STEP_NUM_TASKS"], (Int(tasks) ?? 1) > 1, environment["SLURM_PROCID"] != nil {
            (rankKey, worldKey, localKey) = ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID")
        } else {
            return nil
        }
        func integer(_ key: String, default value: Int? = nil) throws -> Int {
            guard let text = environment[key] else {
                if let value { return value }
                throw DataParallelLaunchError("\(key) is not set (a data-parallel launch needs \(rankKey), \(worldKey), MASTER_ADDR and MASTER_PORT)")
            }
            guard let number = Int(text), number >= 0 else {
                throw DataParallelLaunchError("\(key) is '\(text)'; expected a whole number ≥ 0")
            }
            return number
        }
        let worldSize = try integer(worldKey)
        let rank = try integer(rankKey)
        guard worldSize >= 1 else { throw DataParallelLaunchError("\(worldKey) is 0; expected at least 1") }
        guard rank < worldSize else { throw DataParallelLaunchError("\(rankKey) is \(rank); expected less than \(worldKey) (\(worldSize))") }
        if worldSize == 1 { return nil }
        let port = try integer("MASTER_PORT")
        guard (1...65535).contains(port) else { throw DataParallelLaunchError("MASTER_PORT is \(port); expected 1…65535") }
        guard let address = environment["MASTER_ADDR"], !address.isEmpty else {
            throw DataParallelLaunchError("MASTER_ADDR is not set (a data-parallel launch needs the host where rank 0 serves the rendezvous)")
        }
        return DataParallelLaunch(
            rank: rank, localRank: try integer(localKey, default: rank), worldSize: worldSize, masterAddress: address, masterPort: port)
    }
}

public struct DataParallelLaunchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = "data-parallel launch: \(description)" }
}

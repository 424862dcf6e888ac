// LoomVersion — the one place Loom's own version is written.
public enum LoomVersion {
    public static let string = "0.1.0"
}

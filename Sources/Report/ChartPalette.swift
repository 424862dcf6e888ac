// ChartPalette — the report's colours: one per run, the same in every chart (Okabe–Ito, readable for
// colour-blind people and in greyscale print), plus the base model's grey and the reference line's.
public enum ChartPalette {
    static let runs = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    public static let base = "#9AA3AF"
    public static let tuned = "#0072B2"
    public static let reference = "#4B5563"

    /// The colour of the run at `index` (the palette repeats after eight runs).
    public static func run(_ index: Int) -> String { runs[index % runs.count] }
}

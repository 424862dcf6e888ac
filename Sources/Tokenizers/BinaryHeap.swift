// BinaryHeap — the priority queue of the merge loop (lowest rank, then leftmost) and of the
// hyperword learner (highest score, then earliest pair). The order is a static requirement of the
// element type, so each heap is specialised and compares without a closure call.

protocol HeapOrdered {
    /// Whether `a` leaves the heap before `b`.
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

struct BinaryHeap<Element: HeapOrdered> {
    private var elements: [Element] = []

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(elements[child], elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        let top = elements[0]
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < elements.count else { break }
                let right = left + 1
                let first = right < elements.count && Element.precedes(elements[right], elements[left]) ? right : left
                guard Element.precedes(elements[first], elements[parent]) else { break }
                elements.swapAt(first, parent)
                parent = first
            }
        }
        return top
    }
}

import MedTensor

/// timm's `get_rel_pos` (SAM): the relative-position embedding of every (query, key) pair along one axis,
/// [querySize, keySize, C], from a table [L, C]. A table whose length is not 2·max(querySize, keySize) − 1
/// is first resized by linear interpolation (`F.interpolate(mode='linear')`), as when SAM runs at
/// another resolution. Lookup and resizing are one constant matrix product, so the gradient reaches the
/// table exactly.
public func relativePositionEmbeddings(querySize: Int, keySize: Int, table: Tensor) -> Tensor {
    precondition(table.rank == 2, "relativePositionEmbeddings: expected a [L, C] table, got \(table.shape)")
    let length = table.shape[0]
    let distances = 2 * max(querySize, keySize) - 1
    let resize = length == distances ? nil : InterpolationWeights.linear(inputSize: length, outputSize: distances).scalars
    // Row (i, j) of the lookup picks distance index ⌊i·max(k/q, 1) − j·max(q/k, 1) + (k − 1)·max(q/k, 1)⌋,
    // computed in Float32 as timm does; with resizing, it picks that row of the interpolation matrix.
    let queryScale = max(Float(keySize) / Float(querySize), 1), keyScale = max(Float(querySize) / Float(keySize), 1)
    var lookup = [Float](repeating: 0, count: querySize * keySize * length)
    for i in 0..<querySize {
        for j in 0..<keySize {
            let index = Int(Float(i) * queryScale - Float(j) * keyScale + Float(keySize - 1) * keyScale)
            let row = (i * keySize + j) * length
            if let resize {
                for l in 0..<length { lookup[row + l] = resize[index * length + l] }
            } else {
                lookup[row + index] = 1
            }
        }
    }
    let matrix = Tensor(shape: [querySize * keySize, length], scalars: lookup)
    return matrix.matmul(table).reshaped([querySize, keySize, table.shape[1]])
}

/// timm's `get_decomposed_rel_pos_bias` (SAM, MViTv2) in the factorised form that
/// ``scaledDotProductAttention(query:key:value:scale:bias:)`` expands block by block: for queries
/// [B, heads, qH·qW, C] on a `querySize` grid and keys on a `keySize` grid,
/// rows[b, h, i, kh] = q_i · Rh[qh(i), kh] and columns[b, h, i, kw] = q_i · Rw[qw(i), kw].
public func decomposedRelativePositionBias(query: Tensor, relPosH: Tensor, relPosW: Tensor,
                                           querySize: Size2, keySize: Size2) -> AttentionBias {
    precondition(query.rank == 4 && query.shape[2] == querySize.height * querySize.width,
                 "decomposedRelativePositionBias: query \(query.shape) is not [B, heads, \(querySize.height)·\(querySize.width), C]")
    let (batch, heads, channels) = (query.shape[0], query.shape[1], query.shape[3])
    let rh = relativePositionEmbeddings(querySize: querySize.height, keySize: keySize.height, table: relPosH)
    let rw = relativePositionEmbeddings(querySize: querySize.width, keySize: keySize.width, table: relPosW)
    let grid = query.reshaped([batch, heads, querySize.height, querySize.width, channels])
    // [B, h, qH, qW, C] · [qH, C, kH] → [B, h, qH, qW, kH]
    let rows = grid.matmul(rh.transposed()).reshaped([batch, heads, query.shape[2], keySize.height])
    // [B, h, qW, qH, C] · [qW, C, kW] → [B, h, qW, qH, kW] → [B, h, qH, qW, kW]
    let columns = grid.transposed(2, 3).matmul(rw.transposed()).transposed(2, 3)
        .reshaped([batch, heads, query.shape[2], keySize.width])
    return .decomposed(rows: rows, columns: columns)
}

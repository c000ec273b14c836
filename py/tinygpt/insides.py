"""The numbers behind the playground's "Inside the model" panel, for any Model.

While a model trains, the page shows where it keeps each letter (the embeddings `wte`
and `wpe`, flattened to 2D by their two principal components), what each attention
head looks at in a probe name (`Model.attention`), and the next-letter probabilities
after a probe prefix (`Model.next_token_probs`). `gather` collects all of it, with the
data of the text alternatives, as plain JSON-able values. The page asks for it a few
times a second inside its ~20 ms training tasks, so everything here is cheap for the
default model (about a millisecond; see tests/py/test_insides.py for the sizes measured).
"""

import math
import random
from operator import add, sub

from .errors import OVERFLOW, TinyGPTError, is_finite_number
from .generate import check_temperature
from .kernels import MAX_UNROLL, dot, rowdots

# A probe is a name or a prefix typed into the panel; longer ones are refused outright
# (the name is clamped to the model's block after this check, the prefix must fit it).
MAX_PROBE_CHARS = 40
NEIGHBOURS = 5  # nearest neighbours listed for the chosen letter

# project_2d's accuracy. Both axes come out as eigenvectors of the covariance with a
# relative residual |C a - lambda a| <= TOLERANCE * lambda_1 (a a unit vector): the angle
# to the exact axis is then at most about TOLERANCE * lambda_1 / (the gap between its
# eigenvalue and the next), so the points are exact to ~1e-8 and better unless two
# eigenvalues nearly tie (then the axes are not well defined anyway). Up to KRYLOV
# dimensions (min(rows, columns): every vocabulary up to 48 letters, every n_embd up to
# 48) one Lanczos pass spans the whole space and the result is exact up to rounding;
# larger ones restart Lanczos at most MAX_RESTARTS times.
TOLERANCE = 1e-9
KRYLOV = 64
MAX_RESTARTS = 10


# --- a principal-component projection in pure Python -------------------------------------
def project_2d(matrix, previous_axes=None):
    """The rows of `matrix` (n rows of E numbers) on their first two principal components.

    Returns {"points": [[x, y] per row], "axes": [axis1, axis2] (unit vectors of length
    E), "explained": [share of the variance along axis1, along axis2]}. The rows are
    centred first, so the points are centred on (0, 0).

    How: the two leading eigenvectors of C = Xc^T Xc (or, when there are fewer rows than
    columns, of the smaller Gram matrix Xc Xc^T, mapped back through Xc^T), by Lanczos
    with full reorthogonalisation; neither matrix is formed, each product is two passes of
    the unrolled dot kernels over the rows. The small tridiagonal matrix Lanczos leaves is
    solved by bisection (Sturm counts) and inverse iteration. See TOLERANCE. The result
    depends only on the matrix (and `previous_axes`, for the signs): it is deterministic.

    Signs: an eigenvector's sign is arbitrary. With `previous_axes` (the axes of the last
    frame, ignored unless they are two non-zero lists of E finite numbers) each axis takes
    the sign that points the same way as its predecessor (a non-negative dot product), so
    the picture does not flip between frames; without, the sign that makes the axis's
    largest component (the first, on a tie) positive.

    Scale: rows whose largest number is far from 1 (weights of 1e300, or 1e-160, from a
    link) are first divided by a power of two that brings it near 1 (exactly: a power of
    two only moves the exponent), and the points multiplied back: sums of squares would
    otherwise overflow, or underflow into a division by zero. Usual weights are used as
    they are. Points beyond the float range raise a TinyGPTError.
    """
    rows, scale = _scaled_rows(matrix)
    n, E = len(rows), len(rows[0])
    mean = [s / n for s in map(math.fsum, zip(*rows))]
    X = [list(map(sub, row, mean)) for row in rows]
    Xt = [list(col) for col in zip(*X)]
    total = math.fsum(_dot(x, x) for x in X)  # the trace of C: all the variance
    previous = _fitting_axes(previous_axes, E)
    filler = _filler(E)
    if E == 1 or total == 0:  # one column, or every row the same: any axes will do
        axes = [[float(j == i) for j in range(E)] for i in (0, 1)]
        values = [total, 0.0]
    else:
        guess = None if previous is None else list(map(add, *previous))
        if E <= n:
            axes, values = _top_two(_operator(Xt, X), E, guess)
        else:
            guess = None if guess is None else _rowdots(X, guess)
            us, values = _top_two(_operator(X, Xt), n, guess)
            axes = [_rowdots(Xt, u) for u in us]  # Xc^T u is an eigenvector of C
            if values[1] <= TOLERANCE * values[0]:
                axes[1] = [0.0] * E  # no second direction: any orthogonal one will do
            axes = _orthonormal(axes, 2, filler)
    for i, axis in enumerate(axes):
        if previous is not None:
            flip = _dot(axis, previous[i]) < 0
        else:
            biggest = max(range(E), key=lambda j: (abs(axis[j]), -j))
            flip = axis[biggest] < 0
        if flip:
            axes[i] = [-a for a in axis]
    xs, ys = _rowdots(X, axes[0]), _rowdots(X, axes[1])
    explained = [min(1.0, max(0.0, v) / total) if total > 0 else 0.0 for v in values]
    points = [[x * scale, y * scale] for x, y in zip(xs, ys)]
    if not _finite(points):
        raise TinyGPTError(OVERFLOW)
    return {"points": points, "axes": axes, "explained": explained}


# Usual weights (and their sums of squares, over any matrix of the page) stay far inside
# the float range between these; beyond them project_2d and nearest scale first.
_SMALL, _LARGE = 2.0**-100, 2.0**100


def _scaled_rows(matrix):
    """(rows as floats divided by a power of two s, s): s = 1 unless the largest number is
    outside [2^-100, 2^100]; then the largest becomes about 1. Exact: a power of two."""
    rows = [[float(v) for v in row] for row in matrix]
    largest = max((max(map(abs, row)) for row in rows), default=0.0)
    if largest == 0.0 or _SMALL <= largest <= _LARGE:
        return rows, 1.0
    scale = math.ldexp(1.0, math.frexp(largest)[1])
    return [[v / scale for v in row] for row in rows], scale


def _fitting_axes(axes, E):
    """`axes` if they are two non-zero lists of E finite numbers, else None (ignored)."""
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        return None
    for axis in axes:
        if not isinstance(axis, (list, tuple)) or len(axis) != E:
            return None
        if not all(is_finite_number(a) for a in axis) or not any(axis):
            return None
    return [[float(a) for a in axis] for axis in axes]


def _operator(A, At):
    """v -> A (A^T v), for A with m rows: through the m x m matrix A A^T when that is small
    enough to form cheaply (m <= KRYLOV), else as two products (nothing formed)."""
    if len(A) <= KRYLOV:
        AAt = [_rowdots(A, row) for row in A]
        return lambda v: _rowdots(AAt, v)
    return lambda v: _rowdots(A, _rowdots(At, v))


def _top_two(apply, m, guess):
    """The two leading unit eigenvectors of the symmetric positive semi-definite
    operator `apply` on R^m (m >= 2), and their eigenvalues."""
    filler = _filler(m)
    start = guess if guess is not None and any(guess) else next(filler)
    for _ in range(MAX_RESTARTS):
        Q, pairs, converged = _lanczos(apply, start, m, filler)
        vectors = [_normalised(Q.combine(y)) for _, y in pairs]
        if converged:
            break
        start = list(map(add, *vectors))  # restart from what it found so far
    return vectors, [value for value, _ in pairs]


def _lanczos(apply, start, m, filler):
    """Lanczos with full reorthogonalisation from `start`, for at most KRYLOV steps:
    an orthonormal basis Q of the Krylov space, the top two eigenpairs of the small
    tridiagonal T = Q^T C Q (the coordinates of their vectors in Q), and whether they
    have converged. With m <= KRYLOV it runs all m steps, so Q spans R^m and they are
    exact up to rounding; beyond, it stops once the residuals |C x - theta x| of both
    (beta times the last coordinate of their vectors) are within TOLERANCE. A breakdown
    (an invariant subspace found) continues from a fresh filler vector with a zero in
    T's off-diagonal."""
    alphas, betas = [], []
    q = _normalised(start)
    k = min(m, KRYLOV)
    Q = _Basis(m, k)
    for j in range(k):
        Q.append(q)
        w = apply(q)
        alphas.append(_dot(q, w))
        if j == k - 1:
            break
        w = Q.orthogonalised(w)
        beta = _norm(w)
        if beta <= 1e-12 * max(abs(a) for a in alphas):
            beta = 0.0
            while _norm(w) <= 1e-8:  # a filler vector is almost never in span(Q)
                w = Q.orthogonalised(next(filler))
        if m > KRYLOV and j >= 1 and j % 8 == 7:
            pairs = _top_two_tridiagonal(alphas, betas)
            residual = beta * max(abs(pairs[0][1][-1]), abs(pairs[1][1][-1]))
            if beta and residual <= TOLERANCE * max(pairs[0][0], 1e-300):
                return Q, pairs, True
        betas.append(beta)
        q = _normalised(w)
    return Q, _top_two_tridiagonal(alphas, betas), k == m


class _Basis:
    """Orthonormal vectors q_0, q_1, ... of R^m (at most k of them), kept as rows and as
    columns: coordinates (Q v) and combinations (Q^T c) are then one kernel call each."""

    def __init__(self, m, k):
        self.rows = []
        self.columns = [[0.0] * k for _ in range(m)]  # zeros where no vector is yet
        self.k = k

    def append(self, q):
        j = len(self.rows)
        self.rows.append(q)
        for column, x in zip(self.columns, q):
            column[j] = x

    def combine(self, c):
        """sum_i c[i] q_i."""
        return _rowdots(self.columns, list(c) + [0.0] * (self.k - len(c)))

    def orthogonalised(self, v):
        """v minus its components along the vectors (Gram-Schmidt), once more if that
        removed most of it: "twice is enough" (Kahan and Parlett)."""
        before = _norm(v)
        for _ in range(2):
            v = list(map(sub, v, self.combine(_rowdots(self.rows, v))))
            after = _norm(v)
            if after > 0.5 * before:
                break
            before = after
        return v


def _top_two_tridiagonal(alphas, betas):
    first = _tridiagonal_eigen(alphas, betas, 1)
    return [first, _tridiagonal_eigen(alphas, betas, 2, against=first[1])]


def _tridiagonal_eigen(alphas, betas, j, against=None):
    """The j-th largest eigenvalue of the symmetric tridiagonal matrix (alphas on the
    diagonal, betas beside it) by bisection on Sturm counts, and its unit eigenvector by
    inverse iteration (kept orthogonal to `against`, for a repeated eigenvalue)."""
    k = len(alphas)
    radius = [abs(betas[i - 1]) if i else 0.0 for i in range(k)]
    radius = [r + (abs(betas[i]) if i < k - 1 else 0.0) for i, r in enumerate(radius)]
    lo = min(a - r for a, r in zip(alphas, radius))
    hi = max(a + r for a, r in zip(alphas, radius))
    pivmin = 1e-300 * max([1.0] + [b * b for b in betas])
    index = k - j  # eigenvalues below the one we want

    def below(x):
        count, d = 0, 1.0
        for i in range(k):
            d = alphas[i] - x - (betas[i - 1] ** 2 / d if i else 0.0)
            if abs(d) < pivmin:
                d = -pivmin
            if d < 0:
                count += 1
        return count

    # Bisection only to 1e-7: inverse iteration from there converges at once (unless
    # eigenvalues tie that closely, and then either vector will do), and the Rayleigh
    # quotient of its vector gives the eigenvalue to within rounding.
    width = 1e-7 * max(abs(lo), abs(hi), 1e-300)
    while hi - lo > width:
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if below(mid) > index:
            hi = mid
        else:
            lo = mid
    value = (lo + hi) / 2
    y = next(_filler(k))
    for _ in range(3):
        y = _solve_shifted(alphas, betas, value, y)
        if against is not None:
            y = list(map(sub, y, _scaled(against, _dot(against, y))))
        y = _normalised(y)
    ty = [alphas[i] * y[i] + (betas[i - 1] * y[i - 1] if i else 0.0)
          + (betas[i] * y[i + 1] if i < k - 1 else 0.0) for i in range(k)]
    return _dot(y, ty), y


def _solve_shifted(alphas, betas, shift, b):
    """x with (T - shift I) x = b, T tridiagonal: Gaussian elimination with partial
    pivoting (LAPACK's dgtsv); a zero pivot, expected at an eigenvalue, becomes tiny."""
    n = len(alphas)
    d = [a - shift for a in alphas]
    du, dl, b = list(betas), list(betas), list(b)
    tiny = 1e-300 + 1e-16 * max(abs(v) for v in d + du)
    for i in range(n - 1):
        if abs(d[i]) >= abs(dl[i]):
            if d[i] == 0:
                d[i] = tiny
            fact = dl[i] / d[i]
            d[i + 1] -= fact * du[i]
            b[i + 1] -= fact * b[i]
            dl[i] = 0.0  # dl now holds the second superdiagonal of U
        else:
            fact = d[i] / dl[i]
            d[i], temp = dl[i], d[i + 1]
            d[i + 1] = du[i] - fact * temp
            if i < n - 2:
                dl[i] = du[i + 1]
                du[i + 1] = -fact * dl[i]
            else:
                dl[i] = 0.0
            du[i] = temp
            b[i], b[i + 1] = b[i + 1], b[i] - fact * b[i + 1]
    if d[n - 1] == 0:
        d[n - 1] = tiny
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        value = b[i]
        if i + 1 < n:
            value -= du[i] * x[i + 1]
        if i + 2 < n:
            value -= dl[i] * x[i + 2]
        x[i] = value / d[i] if d[i] != 0 else value / tiny
    return x


def _filler(m):
    """Fixed pseudo-random vectors (the same in CPython and Pyodide)."""
    rng = random.Random(0x1A51DE)
    while True:
        yield [rng.gauss(0.0, 1.0) for _ in range(m)]


def _orthonormal(vectors, p, filler):
    """p orthonormal vectors: `vectors` in order (Gram-Schmidt), the ones that vanish
    (zero, or dependent on the earlier ones) replaced by filler vectors."""
    out, queue = [], list(vectors)
    while len(out) < p:
        v = queue.pop(0) if queue else next(filler)
        norm0 = _norm(v)
        v = _orthogonalised(v, out)
        if norm0 > 0 and _norm(v) > 1e-8 * norm0:
            out.append(_normalised(v))
    return out


def _orthogonalised(v, basis):
    """v minus its components along the orthonormal `basis`, twice (for a few vectors)."""
    for _ in range(2):
        for u in basis:
            v = list(map(sub, v, _scaled(u, _dot(u, v))))
    return v


# Dot products on the generated kernels of kernels.py, longer rows cut into pieces.
def _rowdots(rows, v):
    n = len(v)
    if n <= MAX_UNROLL:
        return rowdots(rows, v)
    out = None
    for a in range(0, n, MAX_UNROLL):
        part = rowdots([row[a : a + MAX_UNROLL] for row in rows], v[a : a + MAX_UNROLL])
        out = part if out is None else list(map(add, out, part))
    return out


def _dot(a, b):
    return dot(a, b) if len(a) <= MAX_UNROLL else _rowdots([a], b)[0]


def _norm(v):
    return math.sqrt(_dot(v, v))


def _normalised(v):
    norm = _norm(v)
    return [a / norm for a in v]


def _scaled(v, c):
    return [a * c for a in v]


# --- the probes ------------------------------------------------------------------------
def check_probe(text, what, model):
    """The ids of a probe typed into the panel, or a TinyGPTError that says which probe."""
    if not isinstance(text, str):
        raise TinyGPTError(f"The {what} must be text.")
    if len(text) > MAX_PROBE_CHARS:
        raise TinyGPTError(f"The {what} is too long: at most {MAX_PROBE_CHARS} characters.")
    known = set(model.tokenizer.chars)
    for ch in text:
        if ch not in known:
            raise TinyGPTError(
                f"The {what} has a character this model does not know: {ch!r} "
                f"(it knows: {''.join(model.tokenizer.chars)})."
            )
    return model.tokenizer.ids(text)


# The probe views run the model, a forward pass per position: work about positions x
# layers x n_embd^2. Past MAX_PROBE_WORK (about 30 ms in Pyodide on the test machine) one
# gathering would be a long task, so a model that big shows its embeddings only.
MAX_PROBE_WORK = 16_000


def probe_work(model, positions):
    return positions * model.config.n_layer * model.config.n_embd**2


def default_probe_name(model, train_docs=None):
    """The name the panel probes unless told otherwise: the first training name, or for
    a model without its data (a file, a link) the first name it generates with seed 0
    (none for a model too big to generate one within MAX_PROBE_WORK)."""
    if train_docs:
        name = train_docs[0]
    elif probe_work(model, model.config.block_size) <= MAX_PROBE_WORK:
        name = model.sample(1, temperature=0.5, seed=0)[0]
    else:
        name = ""
    return name[:MAX_PROBE_CHARS]


# --- the panel's data --------------------------------------------------------------------
def gather(model, probe_name="", probe_prefix="", temperature=0.5, letter=None,
           previous_axes=None, positions=True):
    """Everything the panel shows for `model`; bad probes raise TinyGPTError.

    - embeddings: project_2d of `wte` (one point per vocabulary entry; "" is BOS),
    - positions: project_2d of `wpe` (one point per position; None unless `positions`),
    - neighbours: the NEIGHBOURS entries nearest to `letter` (default: the first
      character) by Euclidean distance between full embedding rows (all n_embd numbers,
      not the 2D picture), nearest first,
    - attention: Model.attention for the probe name (BOS + name, clamped to the block:
      `cut` letters did not fit), and per layer, head and query the key it weighs most,
    - next: Model.next_token_probs after the probe prefix at `temperature`.
    - too_big: None, or (attention and next then None) why the probe views are off: the
      probes would take more than MAX_PROBE_WORK.

    `previous_axes` is {"embeddings": axes, "positions": axes} from the last answer, to
    keep the signs of the axes; axes that do not fit this model are ignored.
    """
    ids = check_probe(probe_name, "probe name", model)
    block = model.config.block_size
    if len(check_probe(probe_prefix, "probe prefix", model)) >= block:
        raise TinyGPTError(
            f"The probe prefix is too long: this model sees {block} positions, BOS included, "
            f"so at most {block - 1} letters."
        )
    temperature = check_temperature(temperature)
    vocab = list(model.tokenizer.chars) + [""]  # "" is BOS, the start and end mark
    if letter is None:
        letter = vocab[0]
    if not isinstance(letter, str) or letter not in vocab:
        raise TinyGPTError("Pick a letter of this model's vocabulary to see its neighbours.")
    if not isinstance(previous_axes, dict):
        previous_axes = {}
    try:
        return _gather(model, probe_name, probe_prefix, temperature, letter, previous_axes,
                       positions, ids, vocab)
    except ArithmeticError:  # a model's numbers beyond the float range (see OVERFLOW)
        raise TinyGPTError(OVERFLOW) from None


def _gather(model, probe_name, probe_prefix, temperature, letter, previous_axes, positions,
            ids, vocab):
    block = model.config.block_size
    shown = probe_name[: block - 1]  # BOS takes the first position
    wte = model.params["wte"]
    answer = {
        "vocab": vocab,
        "embeddings": project_2d(wte, previous_axes.get("embeddings")),
        "positions": project_2d(model.params["wpe"], previous_axes.get("positions"))
        if positions
        else None,
        "neighbours": {
            "letter": letter,
            "nearest": nearest(wte, vocab.index(letter), vocab),
            "dims": model.config.n_embd,
        },
        "too_big": None,
    }
    if probe_work(model, len(shown) + 1 + len(probe_prefix) + 1) > MAX_PROBE_WORK:
        answer.update(attention=None, next=None, too_big=(
            "This model is too big to run on the probes a few times a second without "
            "freezing the page: its attention and next-letter views are off."))
        return answer
    layers = model.attention(shown)
    if not _finite(layers):
        raise TinyGPTError(OVERFLOW)
    answer.update({
        "attention": {
            "name": probe_name,
            "tokens": [""] + list(shown),
            "cut": len(ids) - len(shown),
            "layers": layers,
            "most_attended": [
                [[_argmax(row[: q + 1]) for q, row in enumerate(head)] for head in layer]
                for layer in layers
            ],
        },
        "next": {
            "prefix": probe_prefix,
            "temperature": temperature,
            "probs": [list(p) for p in model.next_token_probs(probe_prefix, temperature)],
        },
    })
    return answer


def nearest(rows, i, labels, k=NEIGHBOURS):
    """[[label, distance]] of the k rows nearest to row i (ties: the lower index first).
    (Scaled as project_2d scales, for weights far from 1.)"""
    rows, scale = _scaled_rows(rows)
    me = rows[i]
    distances = [(_norm(list(map(sub, row, me))), j) for j, row in enumerate(rows) if j != i]
    distances.sort()
    found = [[labels[j], d * scale] for d, j in distances[:k]]
    if not all(math.isfinite(d) for _, d in found):
        raise TinyGPTError(OVERFLOW)
    return found


def _finite(nested):
    """Whether nested lists of floats hold only finite numbers."""
    if nested and isinstance(nested[0], list):
        return all(map(_finite, nested))
    return all(map(math.isfinite, nested))


def _argmax(row):
    best = 0
    for k, w in enumerate(row):
        if w > row[best]:
            best = k
    return best

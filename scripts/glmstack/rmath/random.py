"""R's default random number generator (R >= 3.6 defaults), reproduced without R.

``RRandom(seed)`` returns the numbers R returns after ``set.seed(seed)`` with the
default kinds (``RNGkind()``: "Mersenne-Twister", "Inversion", "Rejection"):

=============================  ==================================
R                              here
=============================  ==================================
``runif(n)``                   ``RRandom.unif(n)``
``rnorm(n, mean, sd)``         ``RRandom.norm(n, mean, sd)``
``rexp(n, rate)``              ``RRandom.exp(n, rate)``
``rgamma(n, shape, scale=)``   ``RRandom.gamma(n, shape, scale)``
``rchisq(n, df)``              ``RRandom.chisq(n, df)``
``qnorm(p)``                   :func:`qnorm`
=============================  ==================================

Successive calls on one object continue one stream, as successive calls in R do after
one ``set.seed``. Nothing global is read or changed.

Algorithms, from their publications; the number and order of the uniforms each one
consumes are R's, checked against R 4.2.2 in ``tests/unit/test_rmath_random.py``:

* uniforms: MT19937 (Matsumoto & Nishimura 1998, ACM TOMACS 8:3-30), its 32-bit output
  times 2^-32. Seeding as R's ``set.seed``: the seed, as an unsigned 32-bit integer,
  takes 50 steps of the congruential generator ``s <- 69069 s + 1 (mod 2^32)``; the
  next 625 steps fill R's seed vector (a position word, overwritten, then the 624
  state words), and the position is set to 624, so the first draw regenerates the
  state. R's uniforms lie strictly inside (0, 1) (``?runif``): an output of 0
  (probability 2^-32) is replaced by half of 1 / (2^32 - 1).
* normals by inversion (R's default ``normal.kind``): two uniforms per normal,
  ``qnorm((floor(2^27 u1) + u2) / 2^27)``, with Wichura's AS241 (PPND16) for qnorm,
  Applied Statistics 37 (1988) 477-484.
* exponentials: Ahrens & Dieter (1972) algorithm SA, Communications of the ACM
  15:873-882.
* gamma: Ahrens & Dieter (1974) algorithm GS for shape < 1 (Computing 12:223-246),
  with its acceptance tests written with a standard exponential (``E >= x`` for
  ``U <= exp(-x)``); Ahrens & Dieter (1982) algorithm GD for shape >= 1
  (Communications of the ACM 25:47-54), with ``expm1`` for the exponential of its
  step 11. ``rchisq(df)`` is ``rgamma(df / 2, scale = 2)``.

The rejection samplers are vectorised speculatively: the first attempt of a draw is
evaluated at every position of a window of the uniform stream, then a short loop
follows the chain of positions that the sequential algorithm visits. Logarithms and
exponentials go through the C library (Python's ``math``), as R's do: numpy's
vectorised versions differ from it in the last bit for a few arguments in a thousand
(``log``) to a few in a hundred (``exp``), which would change returned values and,
rarely, an acceptance decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np

__all__ = ["RRandom", "qnorm", "seeded_state"]

# --------------------------------------------------------------- Mersenne-Twister
MT_N = 624  # MT19937 state words (Matsumoto & Nishimura 1998)
MT_M = 397  # MT19937 middle word
MT_MATRIX_A = np.uint32(0x9908B0DF)  # MT19937 twist matrix
MT_UPPER_MASK = np.uint32(0x80000000)
MT_LOWER_MASK = np.uint32(0x7FFFFFFF)
MT_TEMPERING_B = np.uint32(0x9D2C5680)  # MT19937 tempering masks
MT_TEMPERING_C = np.uint32(0xEFC60000)
MT_TO_UNIT = 2.0**-32  # 32-bit output -> [0, 1)
UNIF_ZERO_FIXUP = 0.5 / (2.0**32 - 1.0)  # R keeps uniforms in (0, 1): the value for a 0
SEED_LCG_MULTIPLIER = 69069  # R set.seed: scrambling congruential generator s <- 69069 s + 1
SEED_SCRAMBLE_STEPS = 50  # R set.seed: steps taken before the state is filled
UINT32 = 0xFFFFFFFF
MT_BLOCKS_PER_FILL = 16  # state regenerations per refill of the uniform buffer

# ------------------------------------------------------------- normal by inversion
INVERSION_BIG = 134217728  # 2^27: R norm_rand (Inversion) joins two uniforms, 2^-59 resolution

# Wichura (1988) AS241 PPND16: coefficients of the rational approximations, constant
# term first; denominators have leading coefficient 1.
AS241_SPLIT1 = 0.425  # |p - 0.5| <= 0.425: central region
AS241_CONST1 = 0.180625  # 0.425^2
AS241_SPLIT2 = 5.0  # r = sqrt(-log(min(p, 1 - p))) <= 5: intermediate tail
AS241_CONST2 = 1.6
AS241_A = (
    3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
    1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
    3.3430575583588128105e4, 2.5090809287301226727e3,
)  # fmt: skip
AS241_B = (
    1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
    2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
    5.2264952788528545610e3,
)  # fmt: skip
AS241_C = (
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4,
)  # fmt: skip
AS241_D = (
    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)  # fmt: skip
AS241_E = (
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7,
)  # fmt: skip
AS241_F = (
    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)  # fmt: skip


def _sa_thresholds() -> tuple[float, ...]:
    """Ahrens & Dieter (1972) SA: q_k = sum_{i=1..k} (ln 2)^i / i!, k = 1..16, correctly rounded."""
    with localcontext() as ctx:
        ctx.prec = 50
        ln2 = Decimal(2).ln()
        term, total, out = Decimal(1), Decimal(0), []
        for i in range(1, 17):
            term = term * ln2 / i
            total += term
            out.append(float(total))
    return tuple(out)


def _ln2_multiples(count: int) -> tuple[float, ...]:
    """0, ln 2, ln 2 + ln 2, ...: SA adds ln 2 once per doubling of u, in floating point."""
    out, a = [0.0], 0.0
    for _ in range(count):
        a += SA_Q[0]
        out.append(a)
    return tuple(out)


SA_Q = _sa_thresholds()  # SA_Q[0] = ln 2; SA_Q[15] rounds to 1, so u* <= SA_Q[15] always
SA_MAX_EXTRA = 16  # uniforms an SA draw may take after its first one (1 + at most 15)
SA_LN2_MULTIPLES = _ln2_multiples(64)  # a uniform in (0, 1) is doubled at most 33 times

# Ahrens & Dieter (1974) GS
GS_INV_E = 0.36787944117144233  # exp(-1); GS uses b = 1 + exp(-1) a

# Ahrens & Dieter (1982) GD: constants of its published listing
GD_SQRT32 = 5.656854  # sqrt(32) to 7 digits, as in the listing (step 1: d = sqrt32 - 12 s)
GD_Q = (0.04166669, 0.02083148, 0.00801191, 0.00144121, -7.388e-5, 2.4511e-4, 2.424e-4)  # q1..q7
GD_A = (0.3333333, -0.250003, 0.2000062, -0.1662921, 0.1423657, -0.1367177, 0.1233795)  # a1..a7
GD_T_MIN = -0.71874483771719  # step 9: a try with t below this is rejected
GD_SHAPE_SPLITS = (3.686, 13.022)  # step 4: the three sets of (b, sigma, c)
GD_LOOKAHEAD = 3 + 1 + SA_MAX_EXTRA + 1  # uniforms a window must hold past a draw's start


def _libm(func: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``func`` (a ``math`` function: the C library's, as R's) element by element."""
    return np.fromiter(map(func, x.tolist()), dtype=float, count=x.size)


def _horner(coef: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    """``((c7 r + c6) r + ... ) r + c0``, in AS241's order of operations."""
    value = np.full_like(r, coef[-1])
    for c in coef[-2::-1]:
        value = value * r + c
    return value


def qnorm(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile, R 4.2's ``qnorm(p)`` (lower tail, not log) to the last bit.

    Wichura's AS241 (PPND16): a rational function of ``(p - 0.5)^2`` for
    ``|p - 0.5| <= 0.425``, else of ``r = sqrt(-log(min(p, 1 - p)))`` (two pieces,
    split at ``r = 5``), with the C library's ``log`` as R. Relative accuracy about
    1e-16. ``scipy.special.ndtri`` (Cephes) is as accurate but differs from R's
    qnorm in the last bits for most arguments (69 % of R's normal draws).

    Parameters
    ----------
    p : array of probabilities.

    Returns
    -------
    Array of quantiles, shape of ``p``: ``-inf`` at 0, ``inf`` at 1, NaN outside [0, 1].
    """
    p = np.asarray(p, dtype=float)
    flat = p.reshape(-1)
    out = np.full(flat.shape, np.nan)
    q = flat - 0.5
    central = np.abs(q) <= AS241_SPLIT1
    qc = q[central]
    r = AS241_CONST1 - qc * qc
    out[central] = qc * _horner(AS241_A, r) / _horner(AS241_B, r)
    tail = np.flatnonzero(~central & (flat > 0) & (flat < 1))
    if tail.size:
        qt = q[tail]
        # R's complement 0.5 - p + 0.5 (exact for p >= 0.5, as 1 - p is)
        small = np.where(qt < 0, flat[tail], 0.5 - flat[tail] + 0.5)
        r = np.sqrt(-_libm(math.log, small))
        near = r <= AS241_SPLIT2
        value = np.empty_like(r)
        rn = r[near] - AS241_CONST2
        value[near] = _horner(AS241_C, rn) / _horner(AS241_D, rn)
        rf = r[~near] - AS241_SPLIT2
        value[~near] = _horner(AS241_E, rf) / _horner(AS241_F, rf)
        out[tail] = np.where(qt < 0, -value, value)
    out[flat == 0] = -np.inf
    out[flat == 1] = np.inf
    return out.reshape(p.shape)


# ---------------------------------------------------------------------- the stream


def seeded_state(seed: int) -> np.ndarray:
    """The 624 Mersenne-Twister words after R's ``set.seed(seed)``.

    Parameters
    ----------
    seed : an R integer (-2147483647 .. 2147483647; R's NA, -2^31, is not allowed).

    Returns
    -------
    (624,) uint32: ``.Random.seed[3:626]`` read as unsigned (``.Random.seed[2]`` is 624).
    """
    seed = int(seed)
    if not -(2**31) < seed < 2**31:
        raise ValueError(f"seed {seed} is not an R integer (|seed| <= 2147483647)")
    s = seed & UINT32
    for _ in range(SEED_SCRAMBLE_STEPS):
        s = (SEED_LCG_MULTIPLIER * s + 1) & UINT32
    words = []
    for _ in range(MT_N + 1):
        s = (SEED_LCG_MULTIPLIER * s + 1) & UINT32
        words.append(s)
    return np.array(words[1:], dtype=np.uint32)  # words[0] is the position slot


def _twist(old: np.ndarray) -> np.ndarray:
    """One MT19937 state regeneration, vectorised in the four blocks its recurrence allows.

    ``new[k] = new_or_old[k + 397] ^ (y >> 1) ^ (A if y odd)`` with ``y`` the top bit of
    ``old[k]`` and the low 31 bits of ``old[k + 1]`` (``new[0]`` for ``k = 623``);
    ``k + 397`` wraps to words already regenerated from ``k = 227`` on.
    """
    new = np.empty_like(old)
    y = (old[:-1] & MT_UPPER_MASK) | (old[1:] & MT_LOWER_MASK)  # k = 0..622
    mixed = (y >> np.uint32(1)) ^ np.where(y & np.uint32(1), MT_MATRIX_A, np.uint32(0))
    split = MT_N - MT_M  # 227
    new[:split] = old[MT_M:] ^ mixed[:split]
    new[split : 2 * split] = new[:split] ^ mixed[split : 2 * split]
    new[2 * split : MT_N - 1] = new[split : MT_N - 1 - split] ^ mixed[2 * split :]
    y_last = (old[-1] & MT_UPPER_MASK) | (new[0] & MT_LOWER_MASK)
    new[-1] = new[MT_M - 1] ^ (y_last >> np.uint32(1)) ^ (MT_MATRIX_A if y_last & 1 else np.uint32(0))
    return new


def _temper(words: np.ndarray) -> np.ndarray:
    """MT19937 output tempering of state words, then scaled to a uniform in (0, 1)."""
    y = words ^ (words >> np.uint32(11))
    y ^= (y << np.uint32(7)) & MT_TEMPERING_B
    y ^= (y << np.uint32(15)) & MT_TEMPERING_C
    y ^= y >> np.uint32(18)
    u = y * MT_TO_UNIT
    u[u <= 0.0] = UNIF_ZERO_FIXUP
    return u


def _norm_from_uniforms(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """R's ``norm_rand`` by inversion from its two uniforms."""
    return qnorm((np.floor(INVERSION_BIG * u1) + u2) / INVERSION_BIG)


def _exp_at_every_start(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SA exponential started at each position of ``u``: (value, uniforms consumed).

    Valid for starts with ``SA_MAX_EXTRA`` uniforms after them. SA doubles ``u`` until
    it exceeds 1, adding ln 2 per doubling (``k`` of them, ``a``); with ``u* = 2^(k+1) u - 1``
    it returns ``a + u*`` if ``u* <= ln 2``, else ``a + ln 2 * min(u_1..u_K)`` over the
    next ``K + 1`` uniforms, ``K`` the first index with ``u* <= q_K``.
    """
    n = u.size - SA_MAX_EXTRA
    first = u[:n]
    frac, expo = np.frexp(first)  # first = frac 2^expo, frac in [0.5, 1)
    halvings = -expo + (frac == 0.5)
    ustar = np.where(frac == 0.5, 1.0, 2.0 * frac - 1.0)
    a = np.asarray(SA_LN2_MULTIPLES)[halvings]
    value = a + ustar
    consumed = np.ones(n, dtype=np.int64)
    long = ustar > SA_Q[0]
    k = np.searchsorted(np.asarray(SA_Q), ustar[long], side="left")  # q_{k-1} < u* <= q_k
    idx = np.flatnonzero(long)
    umin = u[idx + 1]
    for extra in range(2, SA_MAX_EXTRA + 1):
        umin = np.where(extra <= k + 1, np.minimum(umin, u[idx + extra]), umin)
    value[idx] = a[idx] + umin * SA_Q[0]
    consumed[idx] = 2 + k
    return value, consumed


class RRandom:
    """One stream of R's default generator after ``set.seed(seed)`` (see the module docstring).

    Parameters
    ----------
    seed : R integer seed, as given to ``set.seed``.

    Examples
    --------
    >>> rng = RRandom(2)  # set.seed(2)
    >>> x = rng.chisq(10000, 2)  # rchisq(10000, df = 2)
    >>> z = rng.norm(10000, 0.0, 0.5)  # then rnorm(10000, 0, 0.5)
    """

    def __init__(self, seed: int) -> None:
        self._state = seeded_state(seed)
        self._buffer = np.empty(0)
        self._pos = 0
        self._used = 0

    @property
    def uniforms_used(self) -> int:
        """Uniforms consumed so far (R's ``unif_rand`` calls since ``set.seed``)."""
        return self._used

    # -- uniform buffer: generated ahead in whole state regenerations, consumed in order

    def _window(self, size: int) -> np.ndarray:
        """The next ``size`` uniforms without consuming them (a read-only view)."""
        missing = size - (self._buffer.size - self._pos)
        if missing > 0:
            blocks = max(-(-missing // MT_N), MT_BLOCKS_PER_FILL)
            words = np.empty((blocks, MT_N), dtype=np.uint32)
            state = self._state
            for b in range(blocks):
                state = _twist(state)
                words[b] = state
            self._state = state
            self._buffer = np.concatenate([self._buffer[self._pos :], _temper(words.reshape(-1))])
            self._pos = 0
        view = self._buffer[self._pos : self._pos + size]
        view.flags.writeable = False
        return view

    def _consume(self, count: int) -> None:
        self._pos += count
        self._used += count

    # -- R's samplers

    def unif(self, n: int) -> np.ndarray:
        """``runif(n)``: (n,) uniforms in (0, 1)."""
        _check_count(n)
        u = self._window(n).copy()
        self._consume(n)
        return u

    def norm(self, n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
        """``rnorm(n, mean, sd)``: (n,) normals, two uniforms each.

        As R: with ``sd == 0`` (or an infinite mean) every value is ``mean`` and no
        uniform is consumed.
        """
        _check_count(n)
        if not (math.isfinite(sd) and sd >= 0) or math.isnan(mean):
            raise ValueError(f"rnorm needs a finite sd >= 0 and a mean that is not NaN: {mean}, {sd}")
        if sd == 0 or not math.isfinite(mean):
            return np.full(n, float(mean))
        u = self._window(2 * n)
        z = _norm_from_uniforms(u[0::2], u[1::2])
        self._consume(2 * n)
        return mean + sd * z

    def exp(self, n: int, rate: float = 1.0) -> np.ndarray:
        """``rexp(n, rate)``: (n,) exponentials (Ahrens & Dieter 1972 SA), ``E / rate``."""
        _check_count(n)
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rexp needs a finite rate > 0, got {rate}")
        out = np.empty(n)
        done = 0
        while done < n:
            u = self._window(2 * (n - done) + SA_MAX_EXTRA + 64)
            value, consumed = _exp_at_every_start(u)
            steps = consumed.tolist()
            pos, taken = 0, []
            limit = value.size
            while done + len(taken) < n and pos < limit:
                taken.append(pos)
                pos += steps[pos]
            out[done : done + len(taken)] = value[taken]
            done += len(taken)
            self._consume(pos)
        return (1.0 / rate) * out

    def gamma(self, n: int, shape: float, scale: float = 1.0) -> np.ndarray:
        """``rgamma(n, shape, scale = scale)``: (n,) gamma variates.

        Ahrens & Dieter GS for ``shape < 1``, GD for ``shape >= 1``; ``shape == 0``
        gives zeros and consumes nothing, as in R.
        """
        _check_count(n)
        if not (math.isfinite(shape) and shape >= 0 and math.isfinite(scale) and scale > 0):
            raise ValueError(f"rgamma needs finite shape >= 0 and scale > 0, got {shape}, {scale}")
        if shape == 0:
            return np.zeros(n)
        if shape < 1:
            return self._gamma_gs(n, shape, scale)
        return self._gamma_gd(n, shape, scale)

    def chisq(self, n: int, df: float) -> np.ndarray:
        """``rchisq(n, df)``: (n,) chi-square variates, ``rgamma(n, df / 2, scale = 2)``."""
        if not (math.isfinite(df) and df >= 0):
            raise ValueError(f"rchisq needs finite df >= 0, got {df}")
        return self.gamma(n, df / 2.0, 2.0)

    # -- the gamma samplers: a window of uniforms, every start evaluated, then the chain

    def _gamma_gs(self, n: int, a: float, scale: float) -> np.ndarray:
        """GS (shape ``a < 1``), one try per uniform ``u`` and exponential ``E`` after it.

        With ``b = 1 + a / e`` and ``p = b u``: ``x = p^(1/a)`` (as ``exp(log(p) / a)``),
        kept if ``E >= x``, when ``p < 1``; else ``x = -log((b - p) / a)``, kept if
        ``E >= (1 - a) log(x)``. A rejected try is followed by a new one.
        """
        b = 1.0 + GS_INV_E * a
        out = np.empty(n)
        done = 0
        while done < n:
            u = self._window(4 * (n - done) + SA_MAX_EXTRA + 64)
            e_value, e_consumed = _exp_at_every_start(u)
            starts = e_value.size - 1  # a try at i reads u[i] and the exponential at i + 1
            p = b * u[:starts]
            upper = p >= 1.0
            x = np.empty(starts)
            x[upper] = -_libm(math.log, (b - p[upper]) / a)
            x[~upper] = _libm(math.exp, _libm(math.log, p[~upper]) / a)
            bound = x.copy()
            bound[upper] = (1.0 - a) * _libm(math.log, x[upper])
            accept = (e_value[1:] >= bound).tolist()
            step = (1 + e_consumed[1:]).tolist()
            pos, taken, need = 0, [], n - done
            while need and pos < starts:
                if accept[pos]:
                    taken.append(pos)
                    need -= 1
                pos += step[pos]
            out[done : done + len(taken)] = x[taken]
            done += len(taken)
            self._consume(pos)
        return scale * out

    def _gamma_gd(self, n: int, a: float, scale: float) -> np.ndarray:
        """GD (shape ``a >= 1``): the quick acceptance at every start, the rest where reached.

        Steps 2-7 (a normal ``t``, then at most one uniform) are evaluated at every
        position of the window; the double-exponential rejection of steps 8-11 runs,
        one try at a time, only for the draws that reach it.
        """
        gd = _GDConstants.from_shape(a)
        out = np.empty(n)
        done, extra = 0, 0
        while done < n:
            u = self._window(4 * (n - done) + GD_LOOKAHEAD + 64 + extra)
            e_value, e_consumed = _exp_at_every_start(u)
            starts = u.size - GD_LOOKAHEAD
            t = _norm_from_uniforms(u[:starts], u[1 : starts + 1])  # step 2
            x = gd.s + 0.5 * t
            u3 = u[2 : starts + 2]
            quick = (t >= 0) | (gd.d * u3 <= t * t * t)  # steps 2 and 3
            test = ~quick & (x > 0)  # steps 5 to 7
            quick[test] = _libm(math.log, 1.0 - u3[test]) <= gd.log_ratio(t[test])
            accept = quick.tolist()
            step = np.where(t >= 0, 2, 3).tolist()
            e_value_list, e_consumed_list = e_value.tolist(), e_consumed.tolist()

            pos, taken, slow, need = 0, [], {}, n - done
            while need and pos < starts:
                if accept[pos]:
                    taken.append(pos)
                    pos += step[pos]
                    need -= 1
                    continue
                j = pos + 3  # steps 8-11: an exponential and a uniform per try
                while j < starts:
                    e, k = e_value_list[j], e_consumed_list[j]
                    w = float(u[j + k])
                    j += k + 1
                    tt = gd.double_exponential_try(e, w + w - 1.0)
                    if tt is not None:
                        xx = gd.s + 0.5 * tt
                        slow[len(taken)] = scale * xx * xx  # step 12
                        taken.append(0)
                        pos = j
                        need -= 1
                        break
                else:
                    break  # the window ends inside this draw: it starts again in the next
            if not taken:  # one draw's rejections outran the window: widen it
                extra = 2 * extra + 1024
                continue
            values = scale * (x[taken] * x[taken])
            for i, value in slow.items():
                values[i] = value
            out[done : done + len(taken)] = values
            done += len(taken)
            self._consume(pos)
        return out


@dataclass(frozen=True)
class _GDConstants:
    """Ahrens & Dieter (1982) GD: the quantities of its steps 1 and 4 for one shape."""

    s2: float  # a - 1/2
    s: float  # sqrt(s2)
    d: float  # sqrt32 - 12 s
    q0: float  # polynomial in 1/a (q1..q7)
    b: float  # step 4: centre, scale and constant of the double exponential
    si: float
    c: float

    @classmethod
    def from_shape(cls, a: float) -> _GDConstants:
        s2 = a - 0.5
        s = math.sqrt(s2)
        r = 1.0 / a
        q0 = 0.0
        for qk in GD_Q[::-1]:
            q0 = (q0 + qk) * r  # ((q7 r + q6) r + ... + q1) r
        if a <= GD_SHAPE_SPLITS[0]:
            b, si, c = 0.463 + s + 0.178 * s2, 1.235, 0.195 / s - 0.079 + 0.16 * s
        elif a <= GD_SHAPE_SPLITS[1]:
            b, si, c = 1.654 + 0.0076 * s2, 1.68 / s + 0.275, 0.062 / s + 0.024
        else:
            b, si, c = 1.77, 0.75, 0.1515 / s
        return cls(s2, s, GD_SQRT32 - s * 12.0, q0, b, si, c)

    def log_ratio(self, t: np.ndarray) -> np.ndarray:
        """Steps 6 and 10: ``q(t)``, by its series in ``v = t / (2 s)`` when ``|v| <= 1/4``."""
        v = t / (self.s + self.s)
        small = np.abs(v) <= 0.25
        q = np.empty_like(t)
        vs, ts = v[small], t[small]
        series = np.full_like(vs, GD_A[-1])
        for ak in GD_A[-2::-1]:
            series = series * vs + ak
        q[small] = self.q0 + 0.5 * ts * ts * series * vs
        tl = t[~small]
        log1v = _libm(math.log, 1.0 + v[~small])
        q[~small] = self.q0 - self.s * tl + 0.25 * tl * tl + (self.s2 + self.s2) * log1v
        return q

    def log_ratio_at(self, t: float) -> float:
        """:meth:`log_ratio` for one ``t``, in plain floats (step 10 runs one try at a time)."""
        v = t / (self.s + self.s)
        if abs(v) <= 0.25:
            series = GD_A[-1]
            for ak in GD_A[-2::-1]:
                series = series * v + ak
            return self.q0 + 0.5 * t * t * series * v
        return self.q0 - self.s * t + 0.25 * t * t + (self.s2 + self.s2) * math.log(1.0 + v)

    def double_exponential_try(self, e: float, w: float) -> float | None:
        """Steps 8-11 for one exponential ``e`` and ``w = 2 u - 1``: ``t`` if accepted, else None."""
        t = self.b - self.si * e if w < 0.0 else self.b + self.si * e
        if t < GD_T_MIN:
            return None
        q = self.log_ratio_at(t)
        if q > 0.0 and self.c * abs(w) <= math.expm1(q) * math.exp(e - 0.5 * t * t):
            return t
        return None


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"number of draws must be >= 0, got {n}")

"""Uses x / 2 in the even branch: the result turns float32 instead of staying int32."""
MUST_FAIL = ["test_collatz_after_under_jit"]
MUST_SAY = {"test_collatz_after_under_jit": ["float32, not int32", "floor division"]}


def collatz_after(x, n):
    x = x.astype(jnp.float32)
    return lax.fori_loop(0, n, lambda i, v: jnp.where(v % 2 == 0, v / 2, 3 * v + 1), x)

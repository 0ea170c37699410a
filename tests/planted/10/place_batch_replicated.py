"""place_on_mesh replicates the batch as well as the params (P() for both)."""
MUST_FAIL = ["test_place_on_mesh_splits_the_batch"]
MUST_SAY = {"test_place_on_mesh_splits_the_batch": ["whole on every device"]}


def place_on_mesh(params, batch, mesh):
    everywhere = NamedSharding(mesh, P())
    return jax.device_put(params, everywhere), jax.device_put(batch, everywhere)

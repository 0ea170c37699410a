"""place_on_mesh leaves the params on the first device only, with the batch split right."""
MUST_FAIL = ["test_place_on_mesh_replicates_the_params"]
MUST_SAY = {"test_place_on_mesh_replicates_the_params": ["not replicated"]}


def place_on_mesh(params, batch, mesh):
    first = mesh.devices.flat[0]
    return jax.device_put(params, first), jax.device_put(batch, NamedSharding(mesh, P(mesh.axis_names[0])))

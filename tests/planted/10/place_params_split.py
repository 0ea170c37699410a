"""The params split over the mesh like the batch, instead of replicated: a (3, 8) weight can't be cut
in 8 along its first axis."""
MUST_FAIL = ["test_place_on_mesh_replicates_the_params"]
MUST_SAY = {"test_place_on_mesh_replicates_the_params": ["does not divide", "params stay whole"]}


def place_on_mesh(params, batch, mesh):
    split = NamedSharding(mesh, P(mesh.axis_names[0]))
    return jax.device_put(params, split), jax.device_put(batch, split)

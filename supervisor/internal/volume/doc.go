// Package volume is berthd's volume store: named and anonymous volumes
// under ROOT/volumes/NAME/_data with their records in meta.db, the count
// of containers using each, and the translation of a container's -v,
// --mount, --tmpfs and image VOLUME entries into OCI mounts.
//
// The containers service uses two calls around a container's life:
//
//	mounts, err := vols.Resolve(ctx, id, volume.MountRequest{
//		Binds: runOpts.Volumes, Mounts: runOpts.Mounts, Tmpfs: runOpts.Tmpfs,
//		ImageVolumes: keys(img.Config.Volumes),
//		ImageRootfs:  rootfs, // mounted view of the container's rootfs, for copy-up
//	})
//	spec, err := specs.NewDocker(..., specs.WithMounts(mounts...), ...)
//	...
//	err = vols.Release(ctx, id, removeAnonymous) // on `rm` (-v removes anonymous volumes)
//
// Resolve creates missing named volumes and an anonymous volume for each
// image VOLUME no user mount covers, records the container as a user of
// each (so that `volume rm` refuses them), and fills a volume that is
// still empty with the image's files at its mount path (Docker's copy-up;
// volume-nocopy and :nocopy turn it off). It rolls back everything it did
// when it fails. Resolve is idempotent per container: calling it again
// for the same container (at each start) adds no second registration
// and mounts the same anonymous volumes, found by their destination.
//
// The rest serves the volume verbs: Create, Get, List, Remove, Prune.
package volume

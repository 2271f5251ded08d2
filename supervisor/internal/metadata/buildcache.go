package metadata

// bBuildCache maps a build step's cache key (a digest of the parent image,
// the instruction and what it reads) to the image the step made, so that
// a rebuild of an unchanged step reuses it. The bucket is made on first
// use.
var bBuildCache = []byte("buildcache")

// BuildCache returns the image ID cached under key.
func (t *Tx) BuildCache(key string) (string, error) {
	b := t.tx.Bucket(bBuildCache)
	if b == nil {
		return "", ErrNotFound
	}
	v := b.Get([]byte(key))
	if v == nil {
		return "", ErrNotFound
	}
	return string(v), nil
}

// PutBuildCache records that the step with this key made image id.
func (t *Tx) PutBuildCache(key, id string) error {
	b, err := t.tx.CreateBucketIfNotExists(bBuildCache)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), []byte(id))
}

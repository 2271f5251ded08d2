//go:build !linux

package volume

import "errors"

func copyUpIfEmpty(rootfs, dst, vol string) error {
	return errors.New("copying image content into volumes needs Linux")
}

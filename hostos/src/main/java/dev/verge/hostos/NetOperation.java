package dev.verge.hostos;

/** One link or address change, for applying many at once ({@link Batches#apply}). */
public sealed interface NetOperation {
  /** Applies this operation alone, through the single-operation method of the same name. */
  void applyTo(NetworkStack stack);

  record CreateLink(String name, LinkSpec spec) implements NetOperation {
    @Override
    public void applyTo(NetworkStack stack) {
      stack.createLink(name, spec);
    }
  }

  record DeleteLink(String name) implements NetOperation {
    @Override
    public void applyTo(NetworkStack stack) {
      stack.deleteLink(name);
    }
  }

  record AddAddress(String link, IpPrefix prefix) implements NetOperation {
    @Override
    public void applyTo(NetworkStack stack) {
      stack.addAddress(link, prefix);
    }
  }

  record DeleteAddress(String link, IpPrefix prefix) implements NetOperation {
    @Override
    public void applyTo(NetworkStack stack) {
      stack.deleteAddress(link, prefix);
    }
  }
}

package org.promptrecovery4j.testsupport;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Runs {@code core.NativeBackend.select()} when a test JVM starts, before any test touches ND4J, so
 * tests load the same libnd4j build for this CPU as the CLI does. Registered as a JUnit launcher
 * listener (META-INF/services); found by reflection because core's own tests use this module.
 */
public final class NativeSelection implements LauncherSessionListener {

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    try {
      Class.forName("org.promptrecovery4j.core.NativeBackend").getMethod("select").invoke(null);
    } catch (ClassNotFoundException e) {
      // a module without core on its test class path has no ND4J either
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("could not choose the ND4J native build", e);
    }
  }
}

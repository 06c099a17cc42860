<?php
/**
 * WooCommerce Blocks' base class of payment method integrations, as far as the
 * Bluepaid hub gateway uses it, and a registry that records what is registered.
 * Loaded after the plugin, as WooCommerce Blocks loads after plugins.
 */

namespace Automattic\WooCommerce\Blocks\Payments\Integrations;

abstract class AbstractPaymentMethodType {
	protected $name     = '';
	protected $settings = array();

	protected function get_setting( $name, $default = '' ) {
		return $this->settings[ $name ] ?? $default;
	}

	public function get_name() {
		return $this->name;
	}
}

namespace Automattic\WooCommerce\Blocks\Payments;

class PaymentMethodRegistry {
	public $registered = array();

	public function register( $integration ) {
		$this->registered[] = $integration;
	}
}
